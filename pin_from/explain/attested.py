"""What a moved image's attestations tell, read through the Inspector; OSV asked once.

For each moved tag and the compared platform (the first ``--platform``,
``linux/amd64`` by default), the old and the new digest are read the same way:
the index (already fetched for the report's facts), the platform's BuildKit
attestation manifest, and its in-toto statements (the SPDX SBOM, the SLSA
provenance; see :mod:`pin_from.explain.attestations`). Every read goes through the
registry client, by digest, and is cached forever (:class:`Inspector`).

Size cap: a statement whose descriptor is over :data:`MAX_STATEMENT` bytes is
not downloaded (the report says ``SBOM too large (over 32 MB)``), and the
client stops reading any body at that cap, whatever the descriptor said.

OSV is asked once per run, for the packages of every moved image together
(one ``querybatch`` for the API, one pass over an offline directory).
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from pin_from.explain.attestations import Attestations, BlobTooLarge, json_object, read_attestations
from pin_from.registry.changes import Inspector
from pin_from.errors import PinFromError
from pin_from.escape import code_span
from pin_from.explain.markdown import Explanation, Sides, vulnerabilities
from pin_from.registry.manifest import Image, Platform, parse_manifest
from pin_from.explain.osv import Advisory, OsvError, Query, Source, query_for
from pin_from.reference import Reference

MAX_STATEMENT = 32_000_000  # bytes of one in-toto statement (an SBOM)


class Moved(NamedTuple):
    ref: Reference  # tag only
    old: str
    new: str


class _Fetchers:
    """By-digest fetchers for :func:`read_attestations`, over the Inspector.

    The attestation manifest names each statement's size: one over the cap
    raises :class:`BlobTooLarge` before any byte of it is read."""

    def __init__(self, inspector: Inspector, ref: Reference, cap: int) -> None:
        self.inspector = inspector
        self.ref = ref
        self.cap = cap
        self.sizes: dict[str, int] = {}

    def manifest(self, digest: str) -> bytes:
        data = self.inspector.manifest_bytes(self.ref, digest)
        top = parse_manifest(data)
        if isinstance(top, Image):
            self.sizes.update((layer.digest, layer.size) for layer in top.layers)
        return data

    def blob(self, digest: str) -> bytes:
        if self.sizes.get(digest, 0) > self.cap:
            raise BlobTooLarge(digest, self.cap)
        return self.inspector.blob_bytes(self.ref, digest, self.cap)


def _note(text: str) -> Attestations:
    return Attestations(None, None, (text,))


def read_side(inspector: Inspector, ref: Reference, digest: str, platform: Platform,
              cap: int = MAX_STATEMENT) -> Attestations:
    """The attestations of ``platform`` in the image ``digest``, or one note why not."""
    try:
        manifest_digest = inspector.platform_digest(ref, digest, platform)
        if manifest_digest is None:
            return _note(f'no attestations for {platform} (not in this image)')
        if manifest_digest == digest:
            return _note('no attestations on this image')  # a single manifest: no index
        index = json_object(inspector.manifest_bytes(ref, digest), 'image index')
        fetch = _Fetchers(inspector, ref, cap)
        return read_attestations(index, manifest_digest, fetch.manifest, fetch.blob)
    except PinFromError as error:
        return _note(f'attestations unreadable: {code_span(str(error))}')


class _Once:
    """A :class:`Source` asked once, for the queries of every moved image."""

    def __init__(self, source: Source, queries: Sequence[Query]) -> None:
        self.source = source
        self.queries = queries
        self.answer: Optional[list[Advisory]] = None
        self.error: Optional[OsvError] = None

    def candidates(self, queries: Sequence[Query]) -> list[Advisory]:
        if self.answer is None and self.error is None:
            try:
                self.answer = self.source.candidates(self.queries)
            except OsvError as error:
                self.error = error
        if self.error is not None:
            raise self.error
        return self.answer or []


def _queries(all_sides: Sequence[Sides]) -> list[Query]:
    found = {
        q for sides in all_sides for side in sides
        for q in map(query_for, side.packages or ()) if q is not None
    }
    return sorted(found)


class Explainer:
    """Explains moves: ``source`` is the ``--osv`` source, or None (not configured)."""

    def __init__(self, inspector: Inspector, source: Optional[Source], cap: Optional[int] = None) -> None:
        self.inspector = inspector
        self.source = source
        self.cap = MAX_STATEMENT if cap is None else cap

    def explain(self, moves: Sequence[Moved], platform: Platform) -> list[Explanation]:
        from pin_from.explain import versions
        from pin_from.explain.packages import diff_packages
        all_sides = [
            Sides(read_side(self.inspector, m.ref, m.old, platform, self.cap),
                  read_side(self.inspector, m.ref, m.new, platform, self.cap))
            for m in moves
        ]
        source = None if self.source is None else _Once(self.source, _queries(all_sides))
        if source is not None:  # asked before the deadline starts: the network is not ordering
            try:
                source.candidates([])
            except OsvError:
                pass  # kept by _Once: each side's section says it
        versions.start_deadline()  # ordering versions (packages and OSV ranges) is bounded in time
        try:
            ret = []
            for sides in all_sides:
                diff_packages(sides.old.packages or (), sides.new.packages or ())  # ordered now, memoised
                ret.append(Explanation(sides, vulnerabilities(sides, source)))
            return ret
        finally:
            versions.stop_deadline()
