"""The pin-from hook's steps after tags are resolved: ``--update`` (moves and holds) and ``--verify``."""
