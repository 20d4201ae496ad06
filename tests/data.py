"""Paths of the test data kept in the repository (see ``tests/data/official-images/README.md``)."""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / 'data'
# docker-library/official-images snapshots: ``<snapshot>/library/<image>`` for current, 2023-06, 2021-06,
# plus ``extras/library-edge-cases/<image>@<commit>``
OFFICIAL_IMAGES = DATA / 'official-images'
# docker-library/docs deprecation notices: ``<image>/deprecated.md``
DOCS = OFFICIAL_IMAGES / 'extras' / 'docs'
