"""The lowest layer: what every other layer shares, importing nothing else of Upward.

- ``errors``: the ``UpwardError`` family (errors a user can cause and fix);
- ``results``: ``JsonReport``, the JSON serialisation of every result dataclass;
- ``atomic``: all-or-nothing file writes;
- ``locks``: the workspace file lock;
- ``disclosure``: the minimum cell size of anything published.

Examples
--------
>>> from upward.core.disclosure import MIN_CELL_SIZE
>>> MIN_CELL_SIZE
11
"""
