"""Typed options, built once and checked once: the command line, then the environment, then the file.

:func:`build` merges the three sources of every option of a hook's parser into one frozen
:class:`Options`, and every check of an option's value (and of how options combine) happens here,
before any file is read. Past this point nothing reads ``argparse`` values or the environment.

Precedence, per option: the command line, then its environment variable (``ENV``), then the
configuration file (:mod:`pin_from.config`), then the parser's default. A repeatable option takes
the command line's values together with its environment variable's (as before), and the file's only
when neither gives any.

Adding an option:

1. ``add_argument`` in the hook's parser (its ``type=`` checks one value: it also checks the value
   from the environment and the file);
2. a field of :class:`Options` (and its value in :func:`_options`);
3. its long name in ``KEYS`` (``tests/config_test.py`` checks ``KEYS`` against both parsers) and
   its environment variable in ``ENV``, if it has one.
4. for a pin-from option that takes a value, its name in :data:`pin_from.steady.TAKES_VALUE` (checked
   against the parser by ``tests/steady_test.py``).
"""
from __future__ import annotations

import argparse
import os
from typing import Any
from typing import Mapping
from typing import NamedTuple
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from import config
from pin_from.errors import UsageError

if TYPE_CHECKING:
    from pin_from.registry.manifest import Platform

PIN, CHECK = 'pin-from', 'check-deprecated-tags'

# Every key a configuration file may hold: the long options of both hooks (a key of the other hook
# is left to it), the [kinds] table and the [[signatures]] rules.
KEYS = frozenset({
    'cache-dir', 'offline', 'timeout', 'verbose', 'kinds', 'format', 'library-url',  # both hooks
    'registry-mirror', 'insecure-registry', 'jobs', 'check', 'cache-ttl', 'refresh', 'verify',  # pin-from
    'update', 'report', 'platform', 'min-age', 'pin-platform', 'osv',
    'docs-url', 'library-ttl', 'eol', 'eol-warn', 'eol-fail-within',  # check-deprecated-tags
    'signatures',
})
NOT_IN_FILES = frozenset({'help', 'version', 'filenames', 'config'})
# dest -> its environment variable; a list option's variable is comma-separated
ENV = {
    'cache_dir': 'PIN_FROM_CACHE_DIR',
    'registry_mirror': 'PIN_FROM_REGISTRY_MIRRORS',
    'insecure_registry': 'PIN_FROM_INSECURE_REGISTRIES',
    'library_url': 'PIN_FROM_LIBRARY_URL',
    'docs_url': 'PIN_FROM_DOCS_URL',
    'min_age': 'PIN_FROM_MIN_AGE',
    'osv': 'PIN_FROM_OSV',
    'eol': 'PIN_FROM_EOL',
}
# values that name a path: relative to the configuration file's directory when they come from it
PATHS = frozenset({'cache_dir', 'report', 'library_url', 'docs_url', 'osv', 'eol'})
# pin-from options that only mean something with --update (on the command line)
NEED_UPDATE = ('report', 'platform', 'min_age', 'library_url', 'osv')


class Options(NamedTuple):
    """One run's options: typed, checked, and never changed."""

    hook: str
    filenames: tuple[str, ...]
    cache_dir: str
    offline: bool
    timeout: float
    verbose: bool
    format: str
    kinds: frozenset[str] | None  # --kinds: only these kinds (None: all)
    kind_globs: Mapping[str, str]  # [tool.pin-from.kinds]: glob -> kind
    library_url: str
    config: str | None  # the configuration file read, if any
    signatures: tuple[Mapping[str, object], ...] = ()  # [[tool.pin-from.signatures]], for the policy loader
    # pin-from
    mirrors: Mapping[str, str] = {}  # registry name -> where to look it up
    insecure: frozenset[str] = frozenset()
    jobs: int = 32
    check: bool = False
    cache_ttl: float = 0.0
    refresh: bool = False
    verify: bool = False
    update: bool = False
    report: str | None = None
    platform: tuple[Platform, ...] = ()
    min_age: float | None = None  # seconds; None without --update
    pin_platform: Platform | None = None
    osv: str | None = None
    # check-deprecated-tags
    docs_url: str = ''
    library_ttl: float = 0.0
    eol: str | None = None  # --eol: where end-of-life data comes from (None: no end-of-life check)
    eol_warn: float = 90 * 24 * 60 * 60  # seconds
    eol_fail_within: float | None = None  # seconds


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> dict[str, Any]:
    """What the command line gives, and only that (no defaults): argparse's errors exit 2 as ever."""
    saved = [(action, action.default) for action in parser._actions]
    for action, _ in saved:
        action.default = argparse.SUPPRESS
    try:
        return vars(parser.parse_args(argv))
    finally:
        for action, default in saved:
            action.default = default


def build(parser: argparse.ArgumentParser, given: Mapping[str, Any], hook: str) -> Options:
    """The options of one run of ``hook``, from the command line (``given``: :func:`parse`),
    the environment and the configuration file; every check happens here."""
    cfg = config.load(given.get('config'))
    actions = {a.dest: a for a in parser._actions if a.dest not in NOT_IN_FILES and a.option_strings}
    from_file = _from_file(cfg, actions)
    values: dict[str, Any] = {}
    for dest, action in actions.items():
        values[dest] = _merged(dest, action, given, from_file)
    values['filenames'] = tuple(given.get('filenames', ()))
    opts = _options(hook, values, cfg)
    _check(opts, given)
    return opts


def _from_file(cfg: config.Config, actions: Mapping[str, argparse.Action]) -> dict[str, Any]:
    by_key = {s[2:]: a for a in actions.values() for s in a.option_strings if s.startswith('--')}
    ret: dict[str, Any] = {}
    for key, raw in cfg.values.items():
        action = by_key.get(key)
        if action is None:
            if key in KEYS and key not in NOT_IN_FILES:
                continue  # the other hook's option
            raise UsageError(f'{cfg.path}: unknown key {key!r}')
        ret[action.dest] = _file_value(cfg, key, action, raw)
    return ret


def _file_value(cfg: config.Config, key: str, action: argparse.Action, raw: object) -> Any:
    where = f'{cfg.path}: {key}'
    if action.nargs == 0:  # a flag
        if not isinstance(raw, bool):
            raise UsageError(f'{where}: expected true or false')
        return raw if raw else action.default
    if isinstance(action, argparse._AppendAction):
        if not isinstance(raw, list):
            raise UsageError(f'{where}: expected a list (a repeatable option)')
        return [_one(where, action, item, cfg) for item in raw]
    return _one(where, action, raw, cfg)


def _one(where: str, action: argparse.Action, raw: object, cfg: config.Config) -> Any:
    if action.dest == 'kinds' and isinstance(raw, list) and all(isinstance(k, str) for k in raw):
        raw = ','.join(raw)  # the --kinds filter as a list (a table is the glob -> kind map)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise UsageError(f'{where}: expected a string or a number')
    text = str(raw)
    if action.dest in PATHS and not text.startswith(('http://', 'https://')):
        text = os.path.join(cfg.directory, os.path.expanduser(text))
    return _typed(where, action, text)


def _typed(where: str, action: argparse.Action, text: str) -> Any:
    """One value checked by the option's own ``type=`` and ``choices``, as argparse would."""
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as e:
        raise UsageError(f'{where}: {e}') from None
    if action.choices is not None and value not in action.choices:
        raise UsageError(f'{where}: {value!r} is not one of {", ".join(map(str, action.choices))}')
    return value


def _merged(dest: str, action: argparse.Action, given: Mapping[str, Any], from_file: Mapping[str, Any]) -> Any:
    var = ENV.get(dest)
    env = os.environ.get(var, '') if var else ''
    where = f'{var}' if var else dest
    if isinstance(action, argparse._AppendAction):
        values = [_typed(where, action, v.strip()) for v in env.split(',') if v.strip()] + given.get(dest, [])
        return values or from_file.get(dest, [])
    if dest in given:
        return given[dest]
    if env:
        return _typed(where, action, env)
    return from_file.get(dest, action.default)


def _options(hook: str, v: Mapping[str, Any], cfg: config.Config) -> Options:
    from pin_from import support
    from pin_from.steady import default_dir  # where the steady record is looked for, before anything is imported
    update = bool(v.get('update', False))
    return Options(
        hook=hook,
        filenames=v['filenames'],
        cache_dir=str(v['cache_dir'] or default_dir()),
        offline=bool(v['offline']),
        timeout=float(v['timeout']),
        verbose=bool(v['verbose']),
        format=str(v.get('format', 'text')),
        kinds=v['kinds'],
        kind_globs=dict(cfg.kinds),
        library_url=str(v.get('library_url') or support.DEFAULT_LIBRARY_URL),
        config=cfg.path,
        signatures=cfg.signatures,
        mirrors=_mirrors(v.get('registry_mirror', []), _insecure(v.get('insecure_registry', []))),
        insecure=_insecure(v.get('insecure_registry', [])),
        jobs=int(v.get('jobs', 32)),
        check=bool(v.get('check', False)),
        cache_ttl=float(v.get('cache_ttl', 0.0)),
        refresh=bool(v.get('refresh', False)),
        verify=bool(v.get('verify', False)),
        update=update,
        report=v.get('report'),
        platform=tuple(v.get('platform', ())),
        min_age=_min_age(v.get('min_age')) if update else None,
        pin_platform=v.get('pin_platform'),
        osv=str(v.get('osv') or '') or None,
        docs_url=str(v.get('docs_url') or support.DEFAULT_DOCS_URL),
        library_ttl=float(v.get('library_ttl', 0.0)),
        eol=str(v.get('eol') or '') or None,
        eol_warn=float(v.get('eol_warn') or Options._field_defaults['eol_warn']),
        eol_fail_within=v.get('eol_fail_within'),
    )


def _insecure(hosts: Sequence[str]) -> frozenset[str]:
    if not hosts:
        return frozenset()  # without importing the registry client: every run asks
    from pin_from.registry.client import check_host
    return frozenset(check_host(h, '--insecure-registry') for h in hosts)


def _mirrors(specs: Sequence[str], insecure: frozenset[str]) -> dict[str, str]:
    """SOURCE -> TARGET, each checked once (a bad one is a usage error)."""
    if not specs:
        return {}
    from pin_from.registry.client import parse_mirror
    return dict(parse_mirror(spec, insecure) for spec in specs)


def _min_age(text: str | None) -> float | None:
    if not text:
        return None
    from pin_from.steps.update import duration
    try:
        return duration(text)
    except ValueError as e:
        raise UsageError(f'--min-age {e}') from None


def _check(opts: Options, given: Mapping[str, Any]) -> None:
    if opts.hook == CHECK:
        from pin_from.support import sources
        if not sources.is_url(opts.library_url):
            sources.check_library_dir(opts.library_url, '--library-url')
        if not sources.is_url(opts.docs_url):
            sources.check_docs_dir(opts.docs_url, '--docs-url')
        _check_eol(opts, given)
        return
    if not opts.update:
        for dest in NEED_UPDATE:
            if given.get(dest):
                raise UsageError(f'--{dest.replace("_", "-")} needs --update')
        return
    if opts.offline:
        raise UsageError('--update re-pins only from answers fetched in this run; it cannot be --offline')
    if opts.report:
        _check_report_path(opts.report)
    from pin_from.support import sources  # --update only: a plain run does not import it
    if not sources.is_url(opts.library_url):
        sources.check_library_dir(opts.library_url, '--library-url')
    _check_osv(opts.osv)


def _check_eol(opts: Options, given: Mapping[str, Any]) -> None:
    """An end-of-life source must be there before any file is read; its windows need one."""
    if opts.eol is None:
        for dest in ('eol_warn', 'eol_fail_within'):
            if given.get(dest) is not None:
                raise UsageError(f'--{dest.replace("_", "-")} needs --eol (or PIN_FROM_EOL)')
        return
    from pin_from.support import endoflife
    endoflife.check_source(opts.eol)


def _check_report_path(path: str) -> None:
    """Before any file is touched: the report can be written there."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f'--report {path}: is a directory')
    if not os.path.isdir(directory):
        raise UsageError(f'--report {path}: no such directory {directory}')
    if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f'--report {path}: not writable')


def _check_osv(spec: str | None) -> None:
    """An OSV directory or zip must be there before any file is touched."""
    if spec is None or spec.startswith(('http://', 'https://')):
        return
    if not os.path.isdir(spec) and not os.path.isfile(spec):
        raise UsageError(f'--osv {spec}: no such OSV directory or zip')
