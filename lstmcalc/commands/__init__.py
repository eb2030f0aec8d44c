"""The commands of `lstmcalc`, one module each, imported by lstmcalc.cli's group when one runs."""
