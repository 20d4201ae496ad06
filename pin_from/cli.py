"""Options and output shared by the hooks."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable
from typing import NamedTuple
from typing import Sequence

from pin_from import cache
from pin_from import dockerfile
from pin_from import rewrite
from pin_from.errors import DockerfileError
from pin_from.errors import PinFromError
from pin_from.sites import Scan

DEFAULT_TIMEOUT = 10.0
DEFAULT_JOBS = 32


def _env_list(name: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, '').split(',') if v.strip()]


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('filenames', nargs='*', metavar='FILE')
    parser.add_argument(
        '--cache-dir', default=None,
        help='cache directory (env PIN_FROM_CACHE_DIR; default '
             '$XDG_CACHE_HOME/pin-from or ~/.cache/pin-from)',
    )
    parser.add_argument(
        '--offline', action='store_true',
        help='make no network request; fail on a cache miss',
    )
    parser.add_argument(
        '--timeout', type=float, default=DEFAULT_TIMEOUT, metavar='SECONDS',
        help=f'per request (default {DEFAULT_TIMEOUT:g})',
    )
    parser.add_argument(
        '-v', '--verbose', action='store_true',
        help='also say what was skipped and why',
    )


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--registry-mirror', action='append', default=[],
        metavar='SOURCE=TARGET',
        help='look up images of registry SOURCE at TARGET (repeatable; env '
             'PIN_FROM_REGISTRY_MIRRORS, comma-separated)',
    )
    parser.add_argument(
        '--insecure-registry', action='append', default=[],
        metavar='HOST[:PORT]',
        help='allow plain HTTP and unverified TLS for this registry, as '
             "Docker's insecure-registries (repeatable; env "
             'PIN_FROM_INSECURE_REGISTRIES); loopback may always use HTTP',
    )
    parser.add_argument(
        '--jobs', type=int, default=DEFAULT_JOBS, metavar='N',
        help=f'concurrent lookups (default {DEFAULT_JOBS})',
    )


def add_library_url_option(parser: argparse.ArgumentParser, purpose: str) -> None:
    from pin_from.sources import DEFAULT_LIBRARY_URL
    parser.add_argument(
        '--library-url', metavar='URL_OR_DIR',
        default=os.environ.get('PIN_FROM_LIBRARY_URL') or DEFAULT_LIBRARY_URL,
        help=f'{purpose} (env PIN_FROM_LIBRARY_URL; default: '
             f'docker-library/official-images on GitHub)',
    )


def cache_dir(args: argparse.Namespace) -> str:
    return args.cache_dir or cache.default_dir()


def mirrors(args: argparse.Namespace) -> list[str]:
    return _env_list('PIN_FROM_REGISTRY_MIRRORS') + args.registry_mirror


def insecure(args: argparse.Namespace) -> frozenset[str]:
    return frozenset(
        _env_list('PIN_FROM_INSECURE_REGISTRIES') + args.insecure_registry,
    )


class Loaded(NamedTuple):
    path: str
    data: bytes
    text: str
    scan: Scan


def load(path: str, data: bytes | None = None) -> Loaded:
    """Read (unless ``data`` is given), decode and scan one Dockerfile.

    Raises DockerfileError.
    """
    if data is None:
        data = rewrite.read(path)
    text = dockerfile.decode(data)
    return Loaded(path, data, text, dockerfile.scan(text))


def where(path: str, line: int | None) -> str:
    return f'{path}:{line}' if line else path


def file_error(path: str, e: DockerfileError) -> str:
    return f'{where(path, e.line)}: {e}'


def load_all(paths: Sequence[str], verbose: bool) -> tuple[list[Loaded], int]:
    """Load every file, printing read errors, problems and (with -v) skips."""
    retv = 0
    ret = []
    for path in paths:
        try:
            loaded = load(path)
        except DockerfileError as e:
            print(file_error(path, e))
            retv = 1
            continue
        retv |= print_scan(loaded, verbose)
        ret.append(loaded)
    return ret, retv


def print_scan(loaded: Loaded, verbose: bool) -> int:
    """Print a file's problems (and with -v its skips); 1 if it has problems."""
    for problem in loaded.scan.problems:
        print(f'{loaded.path}:{problem.line}: {problem.text}: {problem.reason}')
    if verbose:
        for skip in loaded.scan.skips:
            print(f'{loaded.path}:{skip.line}: skipped {skip.text}: {skip.reason}')
    return 1 if loaded.scan.problems else 0


def run_main(
        prog: str, parser: argparse.ArgumentParser,
        run: Callable[[argparse.Namespace], int], argv: Sequence[str] | None,
) -> int:
    """The one place expected errors are caught: one line, exit 1."""
    args = parser.parse_args(argv)
    try:
        return run(args)
    except PinFromError as e:
        print(f'{prog}: {e}', file=sys.stderr)
        return 1
