"""The ``pin-from`` hook: every base-image tag becomes ``tag@sha256:<digest>``."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from pin_from import cli
from pin_from.cache import Cache
from pin_from.cache import DEFAULT_TTL
from pin_from.dockerfile import Site
from pin_from.errors import DockerfileError
from pin_from.errors import PinFromError
from pin_from.reference import Reference
from pin_from.resolve import Outcome
from pin_from.resolve import Policy
from pin_from.resolve import Resolver


def pinned_text(site: Site, digest: str) -> str:
    """The token as written, plus ``@digest`` (``:latest`` added if untagged)."""
    base = site.text.rpartition('@')[0] if site.ref.digest else site.text
    if site.ref.tag is None:
        base += ':latest'
    return f'{base}@{digest}'


def _wanted(site: Site, update: bool) -> bool:
    if site.ref.digest is None:
        return True
    return update and site.ref.tag is not None


def _skip_reason(site: Site) -> str:
    if site.ref.tag is None:
        return 'digest-only reference; no tag to track'
    return 'already pinned (pin-from --update re-pins moved tags)'


def _make_client(args: argparse.Namespace) -> object:
    from pin_from import registry
    mirrors = dict(registry.parse_mirror(m) for m in cli.mirrors(args))
    return registry.Client(
        registry.Options(mirrors, cli.insecure(args), args.timeout),
    )


def _edits(
        loaded: cli.Loaded, answers: dict[Reference, Outcome],
        update: bool, verbose: bool,
) -> tuple[list[tuple[int, int, str]], list[str], list[str]]:
    """(edits, messages about changes, errors) for one file."""
    edits, changes, errors = [], [], []
    for site in loaded.scan.sites:
        if not _wanted(site, update):
            if verbose:
                print(f'{loaded.path}:{site.line}: skipped {site.text}: {_skip_reason(site)}')
            continue
        outcome = answers[site.ref]
        if isinstance(outcome, PinFromError):
            errors.append(f'{loaded.path}:{site.line}: {site.text}: {outcome}')
        elif outcome != site.ref.digest:
            new = pinned_text(site, outcome)
            edits.append((site.start, site.end, new))
            changes.append(f'{loaded.path}:{site.line}: {site.text} -> {new}')
    return edits, changes, errors


def run(args: argparse.Namespace, update: bool = False) -> int:
    retv = 0
    files = []
    for path in args.filenames:
        try:
            loaded = cli.load(path)
        except DockerfileError as e:
            print(cli.file_error(path, e))
            retv = 1
            continue
        for problem in loaded.scan.problems:
            print(f'{path}:{problem.line}: {problem.text}: {problem.reason}')
            retv = 1
        if args.verbose:
            for skip in loaded.scan.skips:
                print(f'{path}:{skip.line}: skipped {skip.text}: {skip.reason}')
        if not loaded.scan.problems:
            files.append(loaded)

    refs = {s.ref for f in files for s in f.scan.sites if _wanted(s, update)}
    answers: dict[Reference, Outcome] = {}
    if refs:
        policy = Policy(
            ttl=args.cache_ttl, refresh=args.refresh or update,
            offline=args.offline, jobs=args.jobs,
        )
        resolver = Resolver(Cache(cli.cache_dir(args)), policy, lambda: _make_client(args))
        answers = resolver.resolve(refs)

    for loaded in files:
        edits, changes, errors = _edits(loaded, answers, update, args.verbose)
        for error in errors:
            print(error)
        if errors:
            retv = 1
            continue  # the file stays untouched
        if not edits:
            continue
        retv = 1
        verb = 'would pin' if args.check else 'pinned'
        for change in changes:
            print(change.replace(': ', f': {verb} ', 1))
        if not args.check:
            retv |= _write(loaded, edits)
    return retv


def _write(loaded: cli.Loaded, edits: list[tuple[int, int, str]]) -> int:
    from pin_from import rewrite
    data = rewrite.splice(loaded.text, edits).encode('utf-8')
    try:
        rewrite.write_atomic(loaded.path, data, loaded.data)
    except DockerfileError as e:
        print(cli.file_error(loaded.path, e))
        return 1
    return 0


def build_parser(prog: str = 'pin-from') -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description='Pin every base image in Dockerfiles to tag@sha256:<digest>.',
    )
    cli.add_common_options(parser)
    cli.add_registry_options(parser)
    parser.add_argument(
        '--check', action='store_true',
        help='write nothing; exit 1 if any file would change',
    )
    parser.add_argument(
        '--cache-ttl', type=float, default=DEFAULT_TTL, metavar='SECONDS',
        help=f'how long a tag -> digest answer stays fresh (default {DEFAULT_TTL})',
    )
    parser.add_argument(
        '--refresh', action='store_true',
        help='ignore cached tag -> digest answers',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except PinFromError as e:
        print(f'pin-from: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    raise SystemExit(main())
