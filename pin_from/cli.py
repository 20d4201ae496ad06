"""Options shared by the hooks, checked when they are parsed, and the one error boundary.

Exit codes (both hooks):

- 0: nothing to change, nothing found;
- 1: files changed or would change (``pin-from``), unsupported tags found
  (``check-deprecated-tags``);
- 2: usage error (bad option value, options that need ``--update``);
- 3: an error kept the run from a complete answer (a lookup failed, a file
  could not be read or written); 3 wins over 1;
- 4: an unexpected exception (a bug): never 1, which a scheduled job reads as
  "re-pinned". One line; the traceback too with ``PIN_FROM_DEBUG=1``.
"""
from __future__ import annotations

import argparse
import math
import os
from typing import Any
from typing import Callable
from typing import NoReturn
from typing import Sequence

from pin_from import __version__
from pin_from import kinds
from pin_from import options
from pin_from.errors import PinFromError
from pin_from.errors import UsageError
from pin_from.limits import DEFAULT_TIMEOUT
from pin_from.options import Options
from pin_from.render.output import Output

OK = 0
CHANGED = 1  # also: findings
USAGE = 2
FAILED = 3  # OK | CHANGED | FAILED == FAILED: ``status |= ...`` keeps the worst
CRASHED = 4  # an unexpected exception: a bug, never mistaken for CHANGED
DEFAULT_JOBS = 32
VERSION = __version__


def _formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter with a width, so it does not import shutil (and bz2,
    lzma) to ask the terminal on every run: add_argument makes one."""
    try:
        width = os.get_terminal_size().columns - 2
    except OSError:
        width = 78
    return argparse.RawDescriptionHelpFormatter(prog, width=max(40, width))  # the epilog's table stays


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (``prog: error: ...``), exit 2, and no
    abbreviated options: ``--updat`` is refused, so no script depends on a prefix that a new
    option could make ambiguous."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault('formatter_class', _formatter)
        kwargs.setdefault('allow_abbrev', False)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f'{self.prog}: error: {message}\n')


def epilog(exit_codes: Sequence[tuple[int, str]]) -> str:
    """FILE, the kinds (each with the names it recognises) and the exit codes, for --help."""
    width = max(map(len, kinds.KINDS))
    lines = [
        'FILE is a file, or a directory: every file of a known kind under it (inside a git work',
        'tree the files git tracks, elsewhere the tree without hidden directories). A file\'s',
        'kind comes from its name; a file of no known kind is skipped (-v says so). Kinds:',
        '',
    ]
    lines += [f'  {name:<{width}}  {names}' for name, names in kinds.recognised().items()]
    lines += ['', 'exit codes:', '']
    lines += [f'  {code}  {text}' for code, text in exit_codes]
    return '\n'.join(lines)


def _number(text: str, minimum: float, strict: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        bound = f'greater than {minimum:g}' if strict else f'at least {minimum:g}'
        raise argparse.ArgumentTypeError(f'{text!r}: expected a finite number {bound}')
    return value


def seconds(text: str) -> float:
    """A positive, finite duration (``--timeout``)."""
    return _number(text, 0, strict=True)


def ttl(text: str) -> float:
    """A non-negative, finite duration (``--cache-ttl``, ``--library-ttl``)."""
    return _number(text, 0, strict=False)


def jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f'{text!r}: expected 1 to 256')
    return value


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('filenames', nargs='*', metavar='FILE', help='files or directories to check (see below)')
    parser.add_argument('--version', action='version', version=f'%(prog)s {VERSION}')
    parser.add_argument(
        '--config', metavar='FILE', default=None,
        help='the configuration file: [tool.pin-from] of a pyproject.toml, or a .pin-from.toml '
             '(default: the nearest one at or above the current directory)',
    )
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
        '--timeout', type=seconds, default=DEFAULT_TIMEOUT, metavar='SECONDS',
        help=f'deadline of each request, headers and body (default {DEFAULT_TIMEOUT:g})',
    )
    parser.add_argument(
        '-v', '--verbose', action='store_true',
        help='also say what was skipped and why',
    )
    parser.add_argument(
        '--kinds', type=_kinds, default=None, metavar='KIND[,KIND...]',
        help=f'only these kinds of file ({", ".join(kinds.KINDS)}; default all)',
    )


def _kinds(text: str) -> frozenset[str]:
    try:
        return kinds.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


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
        '--jobs', type=jobs, default=DEFAULT_JOBS, metavar='N',
        help=f'concurrent lookups (default {DEFAULT_JOBS})',
    )


def add_library_url_option(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument(
        '--library-url', metavar='URL_OR_DIR', default=None,
        help=f'{purpose} (env PIN_FROM_LIBRARY_URL; default: '
             f'docker-library/official-images on GitHub)',
    )


def add_format_option(parser: argparse.ArgumentParser, formats: Sequence[str] = ('text', 'json')) -> None:
    parser.add_argument(
        '--format', choices=formats, default='text',
        help='text lines (default), or one document on stdout: json (schema '
             'pin_from/schemas/results-v1.json)' + (', sarif (SARIF 2.1.0)' if 'sarif' in formats else ''),
    )


def _crash(e: BaseException) -> str:
    """An unexpected exception in one line (its traceback on stderr with PIN_FROM_DEBUG=1)."""
    if os.environ.get('PIN_FROM_DEBUG'):
        import traceback
        traceback.print_exception(e)
    detail = str(e)
    detail = f'{type(e).__name__}: {detail[:300]}' if detail else type(e).__name__
    return (f'internal error (a bug in pin-from {VERSION}; please report it, with PIN_FROM_DEBUG=1 '
            f'for the traceback): {detail}')


def run_main(
        parser: argparse.ArgumentParser,
        run: Callable[[Options, Output], int], argv: Sequence[str] | None,
) -> int:
    """The one place errors are caught: one line, exit 2 or 3; anything
    unexpected (a bug, MemoryError) is one line too, and exit 4.
    Options are built (and checked) here, once; with ``--format json``/``sarif`` the document
    is printed here, whatever the outcome."""
    given = options.parse(parser, argv)
    out = Output(parser.prog, format=given.get('format', 'text'))
    try:
        opts = options.build(parser, given, parser.prog)
        if opts.format != out.format:  # from the configuration file
            out = Output(parser.prog, format=opts.format)
        status = run(opts, out)
    except UsageError as e:
        out.error(f'error: {e}')
        status = USAGE
    except PinFromError as e:
        out.error(str(e))
        status = FAILED
    except Exception as e:  # noqa: BLE001 -- the one boundary: a bug is exit 4, never a traceback as exit 1
        out.error(_crash(e))
        status = CRASHED
    if out.structured:
        from pin_from.render import results
        out.finish(results.dumps(results.document(out, status)))
    return status
