"""Where the real official-images data lives: ``../shared`` beside the repo."""
from __future__ import annotations

from pathlib import Path

import pytest

OFFICIAL_IMAGES = Path(__file__).resolve().parents[1].parent / 'shared' / 'official-images'
DOCS = OFFICIAL_IMAGES / 'extras' / 'docs'


def official_images() -> Path:
    """The snapshots directory; fails the test (never skips) when it is absent."""
    if not (OFFICIAL_IMAGES / 'current' / 'library').is_dir() or not DOCS.is_dir():
        pytest.fail(
            f'shared test data not found at {OFFICIAL_IMAGES}: the official-images '
            'snapshots must sit in ../shared beside the repository',
            pytrace=False,
        )
    return OFFICIAL_IMAGES
