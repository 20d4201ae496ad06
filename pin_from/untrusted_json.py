"""JSON from outside, parsed within bounds: the one way pin-from reads it.

Registries, proxies, attestations, SBOMs, OSV, token services, credential
helpers and the cache may answer anything. Python's parser recurses once per
nesting level (``[`` x 200,000 is a RecursionError) and spends about 125 bytes
on each object or array it builds (a 31 MB SBOM of ``{"":{"":{}}}`` is a
MemoryError under 1 GB). So before parsing, a pass over the bytes (strings
skipped, at C speed, in bounded memory) measures the nesting depth, the number of containers and of values, and
refuses a document over any bound with one :class:`JSONInputError`, whose
message says which bound in a few words. With the default bounds a document
at the caps costs at most a few hundred MB.

NaN and Infinity, which are not JSON, are refused too. The result is plain
data: dict, list, str, int, float, bool, None.
"""
from __future__ import annotations

import itertools
from typing import Any

MAX_DEPTH = 100  # nesting levels (an SBOM or provenance needs about 10)
MAX_CONTAINERS = 1_000_000  # objects and arrays (100,000 SPDX packages take about 300,000)
MAX_VALUES = 4_000_000  # members and elements, containers included

_CHUNK = 1 << 20
_STRUCTURE = bytes(range(256)).translate(None, b'[]{},')  # every byte but these: deleted
_DELTA = [0] * 256
_DELTA[ord('[')] = _DELTA[ord('{')] = 1
_DELTA[ord(']')] = _DELTA[ord('}')] = -1


class JSONInputError(ValueError):
    """JSON from outside that is not JSON, or exceeds a bound.

    The message is a predicate ("is not JSON", "is nested deeper than 100
    levels"): callers put what was read before it.
    """


def _constant(name: str) -> Any:
    raise JSONInputError(f'is not JSON ({name})')


def _size(n: int) -> str:
    from pin_from.limits import size_text
    return size_text(n)


def loads(
        data: bytes | str, max_bytes: int, *,
        max_depth: int = MAX_DEPTH, max_containers: int = MAX_CONTAINERS, max_values: int = MAX_VALUES,
) -> Any:
    """``data`` parsed, or :class:`JSONInputError` (not JSON, or over a bound)."""
    raw = data.encode('utf-8', 'surrogatepass') if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise JSONInputError(f'is larger than {_size(max_bytes)}')
    over = _over(_structure(raw), max_depth, max_containers, max_values)
    if over:
        raise JSONInputError(over)
    import json
    try:
        return json.loads(raw, parse_constant=_constant)
    except JSONInputError:
        raise
    except RecursionError:  # depth miscounted in text that is not JSON: the parser stops it
        raise JSONInputError(f'is nested deeper than {max_depth} levels') from None
    except (ValueError, UnicodeDecodeError):
        raise JSONInputError('is not JSON') from None


def _structure(raw: bytes) -> bytes:
    """The brackets and commas of ``raw`` outside its strings, in order.

    Escapes are dropped first (``\\\\`` then ``\\"``, pairing backslashes from
    the left as the JSON lexer does), so the quotes left alternate between
    opening and closing a string. The text is split on quotes a chunk at a
    time: a 31 MB document of short strings never becomes millions of objects
    at once.
    """
    cleaned = raw.replace(b'\\\\', b'').replace(b'\\"', b'')
    inside = False
    out = []
    for start in range(0, len(cleaned), _CHUNK):
        parts = cleaned[start:start + _CHUNK].split(b'"')
        out.append(b''.join(parts[1 if inside else 0::2]).translate(None, _STRUCTURE))
        inside ^= len(parts) % 2 == 0
    return b''.join(out)


def _over(structure: bytes, max_depth: int, max_containers: int, max_values: int) -> str | None:
    """Which bound ``structure`` (the brackets and commas of a document) exceeds, if any."""
    containers = structure.count(b'[') + structure.count(b'{')
    if containers > max_containers:
        return f'has more than {max_containers:,} objects and arrays'
    if containers + structure.count(b',') + 1 > max_values:
        return f'has more than {max_values:,} values'
    if containers > max_depth and max(itertools.accumulate(map(_DELTA.__getitem__, structure))) > max_depth:
        return f'is nested deeper than {max_depth} levels'
    return None


def loads_object(data: bytes | str, max_bytes: int, **bounds: int) -> dict[str, Any]:
    """:func:`loads`, and the document must be a JSON object."""
    parsed = loads(data, max_bytes, **bounds)
    if not isinstance(parsed, dict):
        raise JSONInputError('is not a JSON object')
    return parsed
