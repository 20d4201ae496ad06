"""The steady state, answered before the rest of pin-from is imported.

Most runs change nothing: every file is pinned already. Such a run costs what
starting Python and importing pin-from cost, and the imports (argparse, the
kinds and their patterns, the options) are most of it. So a plain run that
leaves a file alone and says nothing about it records that file as *known
clean*: the sha256 of its name and its bytes, in a record kept in the cache
(``steady/<fingerprint>``). The next run reads and hashes each named file, and
when every one is known clean it exits 0 having imported nothing but this
module; otherwise it goes on, through the whole of pin-from, with only the
files that are not known clean (the others would say nothing and change
nothing) and with the bytes already read.

A record holds only for runs that would decide exactly as the run that wrote
it, so its name is a fingerprint of everything else that decides:

- the options before the file names, as given (``--check``, ``--kinds``, ...);
- every ``PIN_FROM_*`` environment variable;
- the working directory, and where it really is (a symlink swapped in above
  it changes the fingerprint);
- every configuration file a run could read: ``--config FILE``, and each
  ``.pin-from.toml`` and each ``pyproject.toml`` naming pin-from from the
  working directory up to ``/`` (their bytes);
- pin-from itself: the path, size and modification time of every source file
  of the package, and the Python version.

``--check`` goes one step further, as ruff's and ESLint's caches do for lint
results: what a check said of a file it would pin (its "would pin" lines) is
kept with the version of ``tags.json`` its answers came from and the time the
first of them stops being fresh. A ``--check`` whose every file is known clean
or said before, on that same ``tags.json``, before that time, says it all again,
in the files' order, and exits 1, without importing the rest either. A check
that asked the registry (``--refresh``), looked up platforms (``--pin-platform``),
wrote a note, or used a stale answer leaves nothing to say again; one file not
known sends every file not clean to the full path, so the order of lines holds.

Only plain runs write records (no ``-v``, ``--update``, ``--verify``, ``--format``
or ``[[signatures]]``; see :func:`eligible`), and only for files that said nothing
(or, with ``--check``, only their own lines). A file is read here only if it is named by a relative path with
no ``..``, is a regular file (opened with ``O_NOFOLLOW``, never a FIFO) of at
most :data:`MAX_FILE` bytes, and no directory between the working directory and
it is a symlink; anything else, a directory argument, ``--``, or an option this
module does not know, leaves the whole run to the full path, which has the rules
and the words for it.

The record is input like the rest of the cache: a file of at most
:data:`MAX_RECORD` bytes of ASCII, a header naming its own fingerprint, then hex
keys (clean) or keys with what was said (printable text only: a line with a
control character is never said again); anything else is no record. Whoever can write the cache can already make
pin-from skip files (``clean.json``): this adds no power. Nothing here raises:
an error is "not known", and the full path decides.
"""
from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False  # typing costs more than all of this module: mypy reads the block below
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

FORMAT = 'pin-from steady 2'
MAX_FILE = 8 * 1024 * 1024  # the largest file pin-from reads (pin_from.files.load uses this one)
MAX_RECORD = 16 * 1024 * 1024
MAX_KEYS = 50_000  # a record over this starts again from the run's own files (old contents pile up)
MAX_CONFIG = 1 << 20
MAX_PREREAD = 64 * 1024 * 1024  # bytes handed to the full path; past this it reads them itself
MAX_RECORDS = 64  # fingerprints kept (one per working directory and configuration in use)
KEEP_DAYS = 30
KEY_LENGTH = 32  # hex digits of sha256 kept per file: 128 bits
DIRECTORY = 'steady'
TAGS_FILE = 'tags.json'  # the cache's tag answers (pin_from.registry.cache), replaced whole on every change

# pin-from's options that take a value (``tests/steady_test.py`` checks this against the parser):
# the tokens before the file names are these, their values, and flags.
TAKES_VALUE = frozenset({
    '--config', '--cache-dir', '--timeout', '--kinds', '--registry-mirror', '--insecure-registry', '--jobs',
    '--format', '--cache-ttl', '--report', '--platform', '--library-url', '--min-age', '--pin-platform', '--osv',
})
FLAGS = frozenset({'--offline', '--check', '--refresh'})  # the flags a recorded run may have


def _sha256_constructor() -> Any:
    """CPython's own sha256 when present: ``hashlib`` loads OpenSSL, a few ms that every steady run
    would pay. Looked up once, by version (a failed import searches the whole path)."""
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
        else:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]
    return sha256


_sha256: Any = None


def sha256_hex(data: bytes) -> str:
    """sha256 of ``data``, hex."""
    global _sha256
    if _sha256 is None:
        _sha256 = _sha256_constructor()
    digest: str = _sha256(data).hexdigest()
    return digest


def default_dir() -> str:
    """``$PIN_FROM_CACHE_DIR``, else ``$XDG_CACHE_HOME/pin-from``, else ``~/.cache/pin-from``."""
    explicit = os.environ.get('PIN_FROM_CACHE_DIR')
    if explicit:
        return explicit
    xdg = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
    return os.path.join(xdg, 'pin-from')


def split(argv: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """The options (with their values) and the file names after them; None when
    the command line is not one this module can read (then the full path runs)."""
    i = 0
    while i < len(argv) and argv[i].startswith('-'):
        token = argv[i]
        name = token.split('=', 1)[0]
        if name in TAKES_VALUE and '=' not in token:
            i += 1
        elif name not in TAKES_VALUE and (token not in FLAGS):
            return None  # -v, --update, --help, --, a typo: the full path's to handle
        i += 1
    if i > len(argv):
        return None  # an option with no value
    files = list(argv[i:])
    if any(f.startswith('-') for f in files):
        return None  # options after a file name: argparse's business
    return list(argv[:i]), files


def _value(options: Sequence[str], name: str) -> str | None:
    """The last value given to ``name`` in ``options`` (as argparse keeps it)."""
    found = None
    for i, token in enumerate(options):
        if token == name and i + 1 < len(options):
            found = options[i + 1]
        elif token.startswith(name + '='):
            found = token[len(name) + 1:]
    return found


def _read_small(path: str, cap: int, flags: int = 0) -> bytes | None:
    """A regular file's bytes, at most ``cap`` of them (None: absent, not a regular file, larger,
    unreadable); never blocks on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0) | flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > cap:
            return None
        data = os.read(fd, st.st_size + 1)
        if len(data) > st.st_size:  # it grew: read on, to the cap
            chunks = [data]
            while chunks[-1] and sum(map(len, chunks)) <= cap:
                chunks.append(os.read(fd, 1024 * 1024))
            data = b''.join(chunks)
        return data if len(data) <= cap else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _code() -> list[str]:
    """pin-from's sources: path, size and mtime of each (a new or edited pin-from is another fingerprint)."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = [package, sys.version]
    pending = [package]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.name.endswith('.py'):
                    st = entry.stat(follow_symlinks=False)
                    found.append(f'{entry.path} {st.st_size} {st.st_mtime_ns}')
                elif entry.is_dir(follow_symlinks=False) and entry.name != '__pycache__':
                    pending.append(entry.path)
    return sorted(found)


def _configs(cwd: str, options: Sequence[str]) -> list[bytes]:
    """Every configuration file a run here could read, with its name: ``--config``'s, then
    ``.pin-from.toml`` and pyproject.toml files naming pin-from from ``cwd`` up to ``/``."""
    parts: list[bytes] = []
    named = _value(options, '--config')
    if named is not None:
        data = _read_small(os.path.join(cwd, named), MAX_CONFIG)
        parts += [b'--config', os.fsencode(named), b'-' if data is None else data]
    here = cwd
    while True:
        for name in ('.pin-from.toml', 'pyproject.toml'):
            path = os.path.join(here, name)
            data = _read_small(path, MAX_CONFIG)
            if data is None:
                if os.path.lexists(path):  # there, but not a small regular file: the full path says what
                    parts += [os.fsencode(path), b'?']
                continue
            if name == '.pin-from.toml' or b'pin-from' in data:
                parts += [os.fsencode(path), data]
        parent = os.path.dirname(here)
        if parent == here:
            return parts
        here = parent


def fingerprint(options: Sequence[str]) -> str:
    """What decides a run over any given files, but the files (see the module's docstring)."""
    cwd = os.getcwd()
    environment = sorted(f'{k}={v}' for k, v in os.environ.items() if k.startswith('PIN_FROM_'))
    parts = [
        FORMAT.encode(), *(os.fsencode(o) for o in options), b'',
        *(os.fsencode(e) for e in environment), b'',
        os.fsencode(cwd), os.fsencode(os.path.realpath(cwd)), b'',
        *(os.fsencode(c) for c in _code()), b'',
        *_configs(cwd, options),
    ]
    # lengths first: no two different lists of parts join to the same bytes
    return sha256_hex(b''.join(b'%d:%s' % (len(p), p) for p in parts))


def key(path: str, data: bytes) -> str:
    name = path.encode('utf-8', 'surrogateescape')  # os.fsencode, without its lookups
    return sha256_hex(b'%d:%s%s' % (len(name), name, data))[:KEY_LENGTH]


class Known:
    """What is known of one run's files before pin-from is imported."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.options: list[str] = []
        self.files: list[str] = []
        self.fingerprint: str | None = None  # None: this run can neither use nor write a record
        self.directory = ''  # where the record is (the cache directory's steady/)
        self.cache_dir = ''
        self.keys: set[str] = set()  # the record's keys of clean files
        self.said: dict[str, str] = {}  # the record's keys of files a --check found to pin: their entries
        self.clean: list[str] = []  # files known clean, not to be looked at again
        self.unknown: list[str] = []  # the files the full path is to look at, in order
        self.preread: dict[str, bytes] = {}  # their bytes, as read here
        self.lines: list[str] = []  # every file known: what the run says (--check: "would pin" lines)
        self.status = 0  # ... and its exit code

    @property
    def all_clean(self) -> bool:
        """Every file is known: the run is over (``lines`` and ``status`` are its answer)."""
        return self.fingerprint is not None and bool(self.files) and not self.unknown

    def rest(self) -> list[str]:
        """The command line for the full path: the options, and the files not known clean."""
        if self.fingerprint is None or not self.clean:
            return self.argv
        return self.options + self.unknown


def check(argv: Sequence[str]) -> Known:
    """Which of the files ``argv`` names are known clean (never raises: an error is "not known")."""
    known = Known(argv)
    try:
        _check(known)
    except Exception:  # noqa: BLE001 -- anything at all: the full path decides, with its own words
        known.fingerprint = None
        known.clean, known.unknown, known.preread = [], list(known.files), {}
    return known


def _check(known: Known) -> None:
    parts = split(known.argv)
    if parts is None:
        return
    known.options, known.files = parts
    known.unknown = list(known.files)
    if not known.files:
        return
    known.cache_dir = _value(known.options, '--cache-dir') or default_dir()
    known.directory = os.path.join(known.cache_dir, DIRECTORY)
    known.fingerprint = fingerprint(known.options)
    keys, said = known.keys, known.said = _load(os.path.join(known.directory, known.fingerprint), known.fingerprint)
    if not keys and not said:
        return
    clean: list[str] = []
    rest: list[tuple[str, bytes | None, str | None]] = []  # not clean: name, bytes, what a --check said
    real: dict[str, bool] = {'': True}
    for path in known.files:  # a thousand files a run: kept lean
        data = _read_file(path, real)
        k = key(path, data) if data is not None else ''
        if k in keys:
            clean.append(path)
        else:
            rest.append((path, data, said.get(k)))
    known.clean = clean
    if _replay_all(known, rest):
        return
    total = 0
    for path, data, _ in rest:
        if data is not None and total + len(data) <= MAX_PREREAD:
            known.preread[path] = data
            total += len(data)
    known.unknown = [path for path, _, _ in rest]


def _replay_all(known: Known, rest: list[tuple[str, bytes | None, str | None]]) -> bool:
    """Every file not clean was found to need pins by a --check like this one, on answers
    still fresh and unchanged: what it said, in the files' order, is the run's answer."""
    if any(entry is None for _, _, entry in rest):
        return False
    tags = _tags_identity(known.cache_dir) if rest else ''
    lines: list[str] = []
    status = 0
    now = _now()
    for _, _, entry in rest:
        found = _replay(entry or '', now, tags)
        if found is None:
            return False
        status |= found[0]
        lines += found[1]
    known.unknown, known.lines, known.status = [], lines, status
    return True


def _read_file(path: str, real: dict[str, bool]) -> bytes | None:
    """The bytes of a file this module may read (see the module's docstring), else None."""
    directory, _, name = path.rpartition(os.sep)
    if not name or path[0] == os.sep or '\0' in path or '..' in path.split(os.sep):
        return None
    if not real.get(directory, False) and not _real(directory, real):
        return None
    return _read_small(path, MAX_FILE, getattr(os, 'O_NOFOLLOW', 0))


def _real(directory: str, real: dict[str, bool]) -> bool:
    """No component of ``directory`` (relative to the working directory) is a symlink; one lstat
    per directory of the run."""
    found = real.get(directory)
    if found is None:
        try:
            found = stat.S_ISDIR(os.lstat(directory).st_mode) and _real(directory.rpartition(os.sep)[0], real)
        except OSError:
            found = False
        real[directory] = found
    return found


def _load(path: str, fp: str) -> tuple[set[str], dict[str, str]]:
    """The record's clean keys, and its keys of files a --check said something of (to their
    entries, unparsed); nothing when there is no record or it is not one."""
    data = _read_small(path, MAX_RECORD)
    if data is None:
        return set(), {}
    header, _, rest = data.partition(b'\n')
    if header != f'{FORMAT} {fp}'.encode() or not rest.isascii():
        return set(), {}
    keys: set[str] = set()
    said: dict[str, str] = {}
    for line in rest.decode('ascii').split('\n'):
        k, tab, entry = line.partition('\t')
        if tab:
            said[k] = entry
        elif k:
            keys.add(k)
    return keys, said


def _now() -> float:
    import time
    return time.time()


def _tags_identity(cache_dir: str) -> str:
    """Which ``tags.json`` is in the cache now (see :func:`identity`); '' if none."""
    try:
        return identity(os.stat(os.path.join(cache_dir, TAGS_FILE)))
    except OSError:
        return ''


def identity(st: os.stat_result) -> str:
    """One version of a file that is only ever replaced whole (a new inode each time)."""
    return f'{st.st_ino}-{st.st_size}-{st.st_mtime_ns}'


def _replay(entry: str, now: float, tags: str) -> tuple[int, list[str]] | None:
    """An entry's exit status and lines, if it still holds: every answer it used is fresh
    (``expiry``) and in the same ``tags.json`` it was read from; its lines are printable."""
    fields = entry.split('\t')
    if len(fields) < 4 or not tags or fields[2] != tags or fields[0] not in ('1',):
        return None
    try:
        expiry = float(fields[1])
    except ValueError:
        return None
    lines = fields[3:]
    if not now < expiry or not all(line.isprintable() for line in lines):
        return None  # stale, or not text pin-from would print (escaped as it printed it)
    return int(fields[0]), lines


def _prune(directory: str, keep: str) -> None:
    """Records of other fingerprints (an older pin-from, another configuration) go after
    :data:`KEEP_DAYS` after they were written, and past the newest :data:`MAX_RECORDS`."""
    import time
    now = time.time()
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.path != keep and entry.is_file(follow_symlinks=False):
                found.append((entry.stat(follow_symlinks=False).st_mtime, entry.path))
    found.sort(reverse=True)
    for i, (mtime, path) in enumerate(found):
        if i >= MAX_RECORDS - 1 or now - mtime > KEEP_DAYS * 24 * 60 * 60:
            try:
                os.unlink(path)
            except OSError:
                pass


def eligible(
        verbose: bool, update: bool, verify: bool, structured: bool, signatures: bool,
) -> bool:
    """Whether a run's decisions about clean files may be recorded: a plain run, which says
    nothing about a file it leaves alone (``-v`` says why; ``--update`` and ``--verify`` look at
    pinned references; ``--format`` lists them; signature rules read files of their own)."""
    return not (verbose or update or verify or structured or signatures)


class Said:
    """What a ``--check`` said of one file that needs pins, for as long as it holds."""

    __slots__ = ('path', 'data', 'status', 'expiry', 'tags', 'lines')

    def __init__(self, path: str, data: bytes, status: int, expiry: float, tags: str, lines: list[str]) -> None:
        self.path, self.data, self.status, self.expiry, self.tags, self.lines = path, data, status, expiry, tags, lines

    def entry(self) -> str | None:
        """The record's line for it (None if a line could not be said again exactly)."""
        if not self.tags or not all(line.isascii() and line.isprintable() for line in self.lines):
            return None  # what pin-from printed is escaped; the record keeps to printable ASCII
        return '\t'.join([str(self.status), repr(self.expiry), self.tags, *self.lines])


def record(
        known: Known, files: Sequence[str], clean: Sequence[str], said: Sequence[Said] = (),
) -> None:
    """Add the files a run left clean (their :func:`key`), and what a --check said of the others,
    to the record.
    ``files`` are the run's file names: the record is written only when they are the ones
    :func:`split` read from its command line. Best effort: a cache that cannot be written is
    the cache's to report."""
    if known.fingerprint is None or list(files) != known.rest()[len(known.options):] or not (clean or said):
        return
    keys = set(clean)
    entries = {key(s.path, s.data): s.entry() for s in said}
    entries = {k: e for k, e in entries.items() if e is not None}
    if keys <= known.keys and all(known.said.get(k) == e for k, e in entries.items()):
        return
    if len(known.keys) + len(known.said) + len(keys) + len(entries) <= MAX_KEYS:
        keys |= known.keys - set(entries)
        entries = {**{k: e for k, e in known.said.items() if k not in keys}, **entries}
    body = ''.join([f'{FORMAT} {known.fingerprint}\n', *(f'{k}\n' for k in sorted(keys)),
                    *(f'{k}\t{e}\n' for k, e in sorted(entries.items()))])
    target = os.path.join(known.directory, known.fingerprint)
    tmp = f'{target}.{os.getpid()}.tmp'
    try:
        os.makedirs(known.directory, mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0), 0o600)
        try:
            view = memoryview(body.encode('ascii'))
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, target)
        _prune(known.directory, target)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
