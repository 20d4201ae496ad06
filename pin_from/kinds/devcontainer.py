"""Dev containers (``.devcontainer.json``, ``.devcontainer/**/devcontainer.json``):
the top-level ``"image"``.

The file is JSON with comments and trailing commas (:mod:`pin_from.kinds.jsonc`);
only the image's text between its quotes changes. ``features`` are OCI
artifacts installed into the image, not images: left alone, as are images a
Compose file or a Dockerfile names (pinned in those files).
"""
from __future__ import annotations

from pin_from.kinds import jsonc
from pin_from.kinds.sites import Scan


def scan(text: str) -> Scan:
    try:
        doc = jsonc.parse(text)
    except jsonc.JsonError as e:
        return jsonc.unparsable(text, e)
    if not isinstance(doc, jsonc.Obj):
        return Scan((), (), ())
    pair = doc.pair('image')
    if pair is None:
        return Scan((), (), ())
    return jsonc.collect([jsonc.image(text, pair[1], 'devcontainer-image', key=pair[0])])
