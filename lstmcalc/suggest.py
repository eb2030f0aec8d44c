"""Closest-name suggestions for misspelt layer types, keywords and references."""

from __future__ import annotations

from typing import Iterable, Optional


def closest(word: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate most like ``word`` (case-insensitive), or None when nothing is close."""
    import difflib

    options = list(candidates)
    lowered = {option.lower(): option for option in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[matches[0]] if matches else None
