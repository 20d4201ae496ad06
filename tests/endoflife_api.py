"""endoflife.date product files rendered as API v1 JSON, as its OpenAPI file describes it.

The snapshot under tests/data/endoflife/ holds the product files of the endoflife.date repository, from which
the site builds its API. This renders them as ``/api/v1/products/full`` answers (FullProductListResponse) so
that the tests can serve real data over HTTP and read it from a directory; ``eol_test`` validates every answer
against the copied OpenAPI schema (tests/data/endoflife/api_v1/openapi.yml).
"""
from __future__ import annotations

import datetime
from pathlib import Path

import yaml

from tests.data import DATA

ENDOFLIFE = DATA / 'endoflife'
PRODUCTS = ENDOFLIFE / 'products'
OPENAPI = ENDOFLIFE / 'api_v1' / 'openapi.yml'
GENERATED = datetime.date(2026, 8, 22)  # the snapshot's date: isEol and friends are computed as of it


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding='utf-8')
    return yaml.safe_load(text.split('\n---', 1)[0].removeprefix('---\n'))


def _date(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime.date) else None


def _phase(value) -> tuple[bool, str | None]:
    """(is over, from) for an eol/eoas/eoes value: a date, or true/false."""
    if isinstance(value, datetime.date):
        return value <= GENERATED, value.isoformat()
    return bool(value), None


def release(product: dict, r: dict) -> dict:
    is_eol, eol_from = _phase(r.get('eol'))
    lts = r.get('lts')
    out = {
        'name': str(r['releaseCycle']),
        'codename': r.get('codename'),
        'label': str(r['releaseCycle']) + (f" ({r['codename']})" if r.get('codename') else ''),
        'releaseDate': _date(r['releaseDate']),
        'isLts': bool(lts),
        'ltsFrom': _date(lts),
        'isEol': is_eol,
        'eolFrom': eol_from,
        'isMaintained': not is_eol,
        'latest': None if not r.get('latest') else {
            'name': str(r['latest']), 'date': _date(r.get('latestReleaseDate')), 'link': r.get('link'),
        },
    }
    if 'eoas' in r:
        out['isEoas'], out['eoasFrom'] = _phase(r['eoas'])
    if 'eoes' in r:
        out['isEoes'], out['eoesFrom'] = _phase(r['eoes'])
        out['isMaintained'] = not out['isEoes'] or not is_eol
    return out


def product(path: Path) -> dict:
    doc = front_matter(path)
    name = path.stem
    return {
        'name': name,
        'label': doc['title'],
        'aliases': [a.strip('/') for a in doc.get('alternate_urls') or []],
        'category': doc['category'],
        'tags': [doc['category'], *str(doc.get('tags') or '').split()],
        'versionCommand': doc.get('versionCommand'),
        'identifiers': [
            {'id': str(value), 'type': kind} for entry in doc.get('identifiers') or [] for kind, value in entry.items()
        ],
        'labels': {'eoas': None, 'discontinued': None, 'eol': doc.get('eolColumn') or 'Security Support', 'eoes': None},
        'links': {
            'icon': None, 'html': f'https://endoflife.date/{name}', 'releasePolicy': doc.get('releasePolicyLink'),
        },
        'releases': [release(doc, r) for r in doc.get('releases') or []],
    }


def full(names: list[str] | None = None) -> dict:
    """``/api/v1/products/full`` over the snapshot's product files (or the named ones)."""
    paths = sorted(PRODUCTS.glob('*.md')) if names is None else [PRODUCTS / f'{n}.md' for n in names]
    products = [product(p) for p in paths]
    return {
        'schema_version': '1.2.1',
        'generated_at': f'{GENERATED.isoformat()}T00:00:00+00:00',
        'total': len(products),
        'result': products,
    }


def schema(component: str) -> dict:
    """A component of the OpenAPI file as a JSON Schema (2020-12, as OpenAPI 3.1 says)."""
    _jekyll, spec = yaml.safe_load_all(OPENAPI.read_text(encoding='utf-8'))  # the site's file: front matter first
    return {'$ref': f'#/components/schemas/{component}', 'components': spec['components']}
