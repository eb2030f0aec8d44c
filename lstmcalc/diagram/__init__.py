"""Model diagrams: ``model`` (what is drawn, from a Report), ``layout`` (boxes, edges and labels
with coordinates), and the writers ``svg``, ``mermaid`` and ``dot``. Imported only by
``lstmcalc diagram`` and ``summary --diagram``, never on the summary start-up path."""
