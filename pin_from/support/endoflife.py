"""End-of-life data from endoflife.date: products, their release cycles and dates.

Two forms of the same data are read, both as untrusted input:

- the product files of the endoflife.date repository (``products/<product>.md``):
  YAML front matter with ``identifiers``, ``alternate_urls``, ``category`` and
  ``releases`` (``releaseCycle``, ``codename``, ``releaseDate``, ``eol``: a date
  or true/false, ``eoes``...);
- the API v1's JSON (``/api/v1/products/full``: ``{"result": [product...]}``,
  or ``/api/v1/products/<product>``: ``{"result": product}``), with ``name``,
  ``aliases``, ``identifiers`` (``{"type", "id"}``) and ``releases``
  (``name``, ``codename``, ``releaseDate``, ``isEol``, ``eolFrom``, ``eoesFrom``).

A source (``--eol URL_OR_DIR``) is the API URL (one request, cached under the
one cache policy by :class:`pin_from.support.sources.Fetcher`), a JSON file, or a
directory holding product files (directly or under ``products/``) or API JSON
files. Everything is bounded: sizes, counts, string lengths; a value of the
wrong type drops that release (or product), never the run. Only products that
can matter are kept: those naming a ``pkg:docker/library/<image>`` purl, and
operating systems (category ``os``), whose codenames name base systems in tags.
"""
from __future__ import annotations

import datetime
import os
import re
from typing import Any
from typing import Iterable
from typing import Iterator
from typing import NamedTuple
from typing import TYPE_CHECKING

from pin_from.errors import EolError
from pin_from.errors import FileError
from pin_from.errors import PinFromError
from pin_from.errors import UsageError
from pin_from.files.load import read_regular

if TYPE_CHECKING:
    from pin_from.support.sources import Fetcher

ENV = 'PIN_FROM_EOL'
API_URL = 'https://endoflife.date/api/v1/products/full'
MAX_JSON = 32 * 1024 * 1024  # the whole API dump (about 4 MB in 2026); the cache keeps up to 64 MB
MAX_PRODUCT_FILE = 1024 * 1024  # one product file (the largest is about 120 KB)
MAX_FILES = 5000  # product or JSON files read from a directory
MAX_PRODUCTS = 5000
MAX_RELEASES = 2000  # per product
MAX_IDENTIFIERS = 2000  # per product
MAX_TEXT = 200  # a name, cycle, codename, alias or label
DOCKER_LIBRARY = 'pkg:docker/library/'
_IMAGE_RE = re.compile(r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*')
_PRODUCT_RE = re.compile(r'[a-z0-9][a-z0-9._+-]{0,99}')
_DATE_RE = re.compile(r'\d{4}-\d{2}-\d{2}')
# product files worth parsing: a docker purl, or an operating system
_RELEVANT_RE = re.compile(r'pkg:docker/library/|^category:[ \t]*["\']?os\b', re.M)


class Cycle(NamedTuple):
    """One release cycle of a product (``releaseCycle`` / ``name``)."""

    product: str  # the product's name, as endoflife.date spells it: python, nodejs, alpine-linux
    label: str  # its title: Python, Node.js, Alpine Linux
    name: str  # 3.12, 18, 22.04
    codename: str | None  # Bookworm, Jammy Jellyfish
    released: datetime.date | None
    eol: datetime.date | None  # the end of life, when a date is known
    ended: bool  # no date known, but the data says it has ended (eol: true)
    eoes: datetime.date | None  # the end of extended support, when a date is known

    @property
    def title(self) -> str:
        """``Python 3.12``, ``Debian 12 (Bookworm)``."""
        return f'{self.label} {self.name}' + (f' ({self.codename})' if self.codename else '')


class Product(NamedTuple):
    name: str
    label: str
    category: str
    aliases: tuple[str, ...]
    images: tuple[str, ...]  # from its pkg:docker/library/<image> purls
    cycles: tuple[Cycle, ...]

    @property
    def is_os(self) -> bool:
        return self.category == 'os'

    @property
    def names(self) -> tuple[str, ...]:
        """The image names it may go by: its purls' images, its name, its aliases."""
        return tuple(dict.fromkeys(self.images + (self.name,) + self.aliases))


class Data(NamedTuple):
    products: tuple[Product, ...]

    def by_image(self) -> dict[str, Product]:
        """Official image name -> product: docker purls first, then operating systems
        by name or alias (``debian``, ``ubuntu``, ``alpine``)."""
        found: dict[str, Product] = {}
        for product in self.products:
            for image in product.images:
                found.setdefault(image, product)
        for product in self.products:
            if product.is_os:
                for name in (product.name,) + product.aliases:
                    found.setdefault(name, product)
        return found


# --- values ------------------------------------------------------------------


def _text(value: object) -> str | None:
    """A short, printable string (ints allowed: a cycle may be written unquoted)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT or not value.isprintable():
        return None
    return value.strip() or None


def _date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _strings(value: object, limit: int) -> list[object]:
    return value[:limit] if isinstance(value, list) else []


def _docker_images(purls: list[str]) -> tuple[str, ...]:
    from pin_from.explain.purl import parse_purl
    images = []
    for text in purls:
        if not text.startswith(DOCKER_LIBRARY):
            continue
        purl = parse_purl(text)
        if purl is not None and purl.type == 'docker' and purl.namespace == 'library' \
                and _IMAGE_RE.fullmatch(purl.name) and len(purl.name) <= MAX_TEXT:
            images.append(purl.name)
    return tuple(dict.fromkeys(images))


def _cycle_name(value: object) -> str | None:
    """A cycle's name; a YAML float (``3.10`` unquoted reads as 3.1) is refused."""
    if isinstance(value, float):
        return None
    name = _text(value)
    return None if name is None or any(c.isspace() for c in name) else name


def _product(
        name: object, label: object, category: object, aliases: list[str], purls: list[str],
        releases: list[Cycle | None],
) -> Product | None:
    product = _text(name)
    if product is None or not _PRODUCT_RE.fullmatch(product):
        return None
    title = _text(label) or product
    cycles = tuple(c._replace(product=product, label=title) for c in releases if c is not None)
    return Product(
        product, title, _text(category) or '',
        tuple(dict.fromkeys(a for a in aliases if _IMAGE_RE.fullmatch(a) and len(a) <= MAX_TEXT)),
        _docker_images(purls), cycles,
    )


def _relevant(product: Product | None) -> bool:
    return product is not None and bool(product.cycles) and (bool(product.images) or product.is_os)


# --- product files (YAML front matter) ----------------------------------------


def _front_matter(text: str) -> str | None:
    if not text.startswith('---'):
        return None
    end = re.search(r'^---[ \t]*$', text[3:], re.M)
    first = text.find('\n')
    if end is None or first < 0:
        return None
    return text[first + 1:3 + end.start()]


def parse_product_file(name: str, text: str) -> Product | None:
    """A ``products/<name>.md`` file; None when it is not one or names no cycle."""
    import yaml
    matter = _front_matter(text)
    if matter is None:
        return None
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    try:
        doc = yaml.load(matter, Loader=loader)  # noqa: S506 -- a safe loader
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    purls = []
    for entry in _strings(doc.get('identifiers'), MAX_IDENTIFIERS):
        if isinstance(entry, dict) and isinstance(entry.get('purl'), str):
            purls.append(entry['purl'])
    aliases = []
    for url in _strings(doc.get('alternate_urls'), MAX_IDENTIFIERS):
        alias = _text(url)
        if alias is not None:
            aliases.append(alias.strip('/'))
    releases = [_yaml_release(r) for r in _strings(doc.get('releases'), MAX_RELEASES)]
    product = _product(name, doc.get('title'), doc.get('category'), aliases, purls, releases)
    return product if product is not None and product.cycles else None


def _yaml_release(release: object) -> Cycle | None:
    if not isinstance(release, dict):
        return None
    name = _cycle_name(release.get('releaseCycle'))
    if name is None:
        return None
    eol = release.get('eol')
    return Cycle(
        '', '', name, _text(release.get('codename')), _date(release.get('releaseDate')),
        _date(eol), eol is True, _date(release.get('eoes')),
    )


# --- API JSON ----------------------------------------------------------------


def load_json(data: bytes | str, what: str) -> Any:
    """Untrusted JSON, through the one bounded parser (:mod:`pin_from.untrusted_json`)."""
    from pin_from import untrusted_json
    try:
        return untrusted_json.loads(data, MAX_JSON)
    except untrusted_json.JSONInputError as e:
        raise EolError(f'{what}: {e}') from None


def parse_api(document: object, what: str) -> list[Product]:
    """The API's answer: ``{"result": [product...]}`` or ``{"result": product}``."""
    result = document.get('result') if isinstance(document, dict) else None
    if isinstance(result, dict):
        result = [result]
    if not isinstance(result, list):
        raise EolError(f'{what}: not an endoflife.date API answer (no "result" list of products)')
    products = (_api_product(p) for p in result[:MAX_PRODUCTS])
    return [p for p in products if p is not None and p.cycles]


def _api_product(product: object) -> Product | None:
    if not isinstance(product, dict):
        return None
    purls = [
        i['id'] for i in _strings(product.get('identifiers'), MAX_IDENTIFIERS)
        if isinstance(i, dict) and i.get('type') == 'purl' and isinstance(i.get('id'), str)
    ]
    aliases = [a for a in (_text(x) for x in _strings(product.get('aliases'), MAX_IDENTIFIERS)) if a]
    releases = [_api_release(r) for r in _strings(product.get('releases'), MAX_RELEASES)]
    return _product(product.get('name'), product.get('label'), product.get('category'), aliases, purls, releases)


def _api_release(release: object) -> Cycle | None:
    if not isinstance(release, dict):
        return None
    name = _cycle_name(release.get('name'))
    if name is None:
        return None
    eol = _date(release.get('eolFrom'))
    return Cycle(
        '', '', name, _text(release.get('codename')), _date(release.get('releaseDate')),
        eol, eol is None and release.get('isEol') is True, _date(release.get('eoesFrom')),
    )


# --- sources -----------------------------------------------------------------


def is_url(source: str) -> bool:
    return source.startswith(('http://', 'https://'))


def check_source(source: str, option: str = '--eol') -> None:
    """A local source must be there before the run trusts it (a usage error otherwise)."""
    if is_url(source):
        return
    if os.path.isfile(source):
        return
    expect = 'the endoflife.date API URL, a directory of product .md files or API JSON, or a JSON file'
    if not os.path.isdir(source):
        raise UsageError(f'{option} {source}: no such file or directory (expected {expect})')
    if next(_files(source), None) is None:
        raise UsageError(f'{option} {source}: holds no product .md or .json files (expected {expect})')


def _files(directory: str) -> Iterator[str]:
    """``*.md`` and ``*.json`` files of ``directory`` and of its ``products/``, sorted, capped."""
    count = 0
    for base in (directory, os.path.join(directory, 'products')):
        try:
            names = sorted(os.listdir(base))
        except OSError:
            continue
        for name in names:
            if name.endswith(('.md', '.json')) and not name.startswith('.'):
                path = os.path.join(base, name)
                if os.path.isfile(path):
                    count += 1
                    if count > MAX_FILES:
                        return
                    yield path


def load(source: str, fetcher: Fetcher | None) -> Data:
    """The end-of-life data of ``source`` (URL, JSON file or directory), or EolError."""
    products: list[Product] = []
    if is_url(source):
        if fetcher is None:
            raise EolError(f'{source}: no way to fetch it')
        try:
            text = fetcher.fetch(source, MAX_JSON)
        except PinFromError as e:
            raise EolError(str(e)) from None
        if text is None:
            raise EolError(f'{source} answered HTTP 404')
        products = parse_api(load_json(text, source), source)
    elif os.path.isfile(source):
        products = parse_api(load_json(_read(source, MAX_JSON), source), source)
    else:
        for path in _files(source):
            products += _read_one(path)
    return Data(_deduplicated(p for p in products if _relevant(p)))


def _read(path: str, cap: int) -> bytes:
    try:
        return read_regular(path, cap)
    except FileError as e:
        raise EolError(f'{path}: {e}') from None


def _read_one(path: str) -> list[Product]:
    data = _read(path, MAX_JSON if path.endswith('.json') else MAX_PRODUCT_FILE)
    if path.endswith('.json'):
        return parse_api(load_json(data, path), path)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return []
    if not _RELEVANT_RE.search(text):
        return []  # neither a docker image nor an operating system: not worth parsing
    product = parse_product_file(os.path.basename(path)[:-3], text)
    return [] if product is None else [product]


def _deduplicated(products: Iterable[Product]) -> tuple[Product, ...]:
    """One product per name (the first seen)."""
    found: dict[str, Product] = {}
    for product in products:
        found.setdefault(product.name, product)
    return tuple(found.values())
