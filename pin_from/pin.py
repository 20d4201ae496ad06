"""The ``pin-from`` hook: every base-image tag becomes ``tag@sha256:<digest>``."""
from __future__ import annotations

import argparse
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from import cli
from pin_from.cache import Cache
from pin_from.cache import DEFAULT_TTL
from pin_from.sites import Site
from pin_from.errors import DockerfileError
from pin_from.errors import PinFromError
from pin_from.reference import Reference

if TYPE_CHECKING:  # imported where needed: a steady-state run stays cheap
    from pin_from import update
    from pin_from.resolve import Outcome


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
    from pin_from import credentials
    from pin_from import registry
    mirrors = dict(registry.parse_mirror(m) for m in cli.mirrors(args))
    return registry.Client(
        registry.Options(mirrors, cli.insecure(args), args.timeout, credentials.Lookup()),
    )


class _Run:
    """One invocation: files, answers from the registry, and the moves found."""

    def __init__(self, args: argparse.Namespace, update: bool) -> None:
        self.args = args
        self.update = update
        self.cache = Cache(cli.cache_dir(args))
        self._client: object | None = None
        self.vetoed: set[tuple[Reference, str]] = set()
        self._libraries: dict[str, object | None] = {}

    def client(self) -> object:
        if self._client is None:
            self._client = _make_client(self.args)
        return self._client

    def resolve(self, files: list[cli.Loaded]) -> dict[Reference, Outcome]:
        refs = {s.ref for f in files for s in f.scan.sites if _wanted(s, self.update)}
        if not refs:
            return {}
        from pin_from.resolve import Policy
        from pin_from.resolve import Resolver
        policy = Policy(
            ttl=self.args.cache_ttl, refresh=self.args.refresh or self.update,
            offline=self.args.offline, jobs=self.args.jobs,
        )
        return Resolver(self.cache, policy, self.client).resolve(refs)

    def moves(self, files: list[cli.Loaded], answers: dict[Reference, Outcome]) -> list[update.Move]:
        """Pinned references whose tag now names another digest (after the noise filter)."""
        rows = [
            (s.ref.tag_only(), s.ref.digest, answers[s.ref], f'{f.path}:{s.line}')
            for f in files for s in f.scan.sites
            if s.ref.digest and s.ref.tag is not None and isinstance(answers.get(s.ref), str)
            and answers[s.ref] != s.ref.digest
        ]
        if not rows:
            return []
        from pin_from import changes
        from pin_from import update
        inspector = changes.Inspector(self.client(), self.cache)
        platforms = [changes.parse_platform(p) for p in self.args.platform]
        shown = platforms[0] if platforms else changes.parse_platform(changes.DEFAULT_PLATFORM)
        ret = []
        for ref, old, new, where in update.group(rows):  # type: ignore[arg-type]
            if platforms and not update.platform_changed(inspector, ref, old, new, platforms):
                self.vetoed.add((ref, old))
                if self.args.verbose:
                    print(f'{ref}: moved to {new}, but not for {", ".join(self.args.platform)}; kept')
                continue
            ret.append(update.Move(
                ref, old, new, where, update.details(inspector, ref, old, new, shown),
                self._source(ref),
            ))
        return ret

    def _source(self, ref: Reference) -> str | None:
        if not ref.is_official:
            return None
        from pin_from import update
        lib = self._library(ref.official_name)
        return None if lib is None else update.library_source(lib, ref.effective_tag)

    def _library(self, name: str) -> object | None:
        """library/<name>, fetched and parsed once per run (None if unavailable)."""
        if name not in self._libraries:
            from pin_from import library
            from pin_from import sources
            policy = sources.Policy(sources.DEFAULT_TTL, self.args.offline, self.args.timeout)
            try:
                text = sources.Fetcher(self.cache, policy).get(self.args.library_url, name)
                self._libraries[name] = None if text is None else library.parse_library(name, text)
            except PinFromError:
                self._libraries[name] = None
        return self._libraries[name]

    def edits(
            self, loaded: cli.Loaded, answers: dict[Reference, Outcome],
    ) -> tuple[list[tuple[int, int, str]], list[str], list[str]]:
        """(edits, messages about changes, errors) for one file."""
        edits, changed, errors = [], [], []
        for site in loaded.scan.sites:
            if not _wanted(site, self.update):
                if self.args.verbose:
                    print(f'{loaded.path}:{site.line}: skipped {site.text}: {_skip_reason(site)}')
                continue
            outcome = answers[site.ref]
            if isinstance(outcome, PinFromError):
                errors.append(f'{loaded.path}:{site.line}: {site.text}: {outcome}')
            elif outcome != site.ref.digest and (site.ref.tag_only(), site.ref.digest) not in self.vetoed:
                new = pinned_text(site, outcome)
                verb = 're-pin' if site.ref.digest else 'pin'
                edits.append((site.start, site.end, new))
                changed.append(f'{loaded.path}:{site.line}: {verb} {site.text} -> {new}')
        return edits, changed, errors

    def close(self) -> None:
        close = getattr(self._client, 'close', None)
        if close is not None:
            close()


def run(args: argparse.Namespace) -> int:
    update_mode = bool(getattr(args, 'update', False))
    state = _Run(args, update_mode)
    try:
        return _run(state)
    finally:
        state.close()


def _run(state: _Run) -> int:
    args = state.args
    memo = None
    if args.verbose or state.update:
        loaded_files, retv = cli.load_all(args.filenames, args.verbose)
        files = [f for f in loaded_files if not f.scan.problems]  # a file with a problem is not written
    else:
        from pin_from.memo import Memo
        memo = Memo(state.cache)
        files, retv = memo.load_pending(args.filenames)

    answers = state.resolve(files)
    moves = state.moves(files, answers) if state.update else []

    for loaded in files:
        edits, changed, errors = state.edits(loaded, answers)
        for error in errors:
            print(error)
        if errors:
            retv = 1
            continue  # the file stays untouched
        if not edits:
            continue
        retv = 1
        for change in changed:
            print(change.replace(' pin ', ' would pin ' if args.check else ' pinned ', 1)
                        .replace(' re-pin ', ' would re-pin ' if args.check else ' re-pinned ', 1))
        if not args.check:
            written = _write(loaded, edits)
            if written is None:
                retv = 1
            elif memo is not None:  # every wanted reference was pinned
                memo.written(written)
    if memo is not None:
        memo.save()
    if state.update:
        _report(args, moves)
    return retv


def _report(args: argparse.Namespace, moves: list[update.Move]) -> None:
    from pin_from import update
    platform = args.platform[0] if args.platform else 'linux/amd64'
    if args.report:
        with open(args.report, 'w', encoding='utf-8') as f:
            f.write(update.markdown(moves, platform) if moves else 'No base image tag moved.\n')
    elif moves:
        print(update.summary(moves))


def _write(loaded: cli.Loaded, edits: list[tuple[int, int, str]]) -> bytes | None:
    """The bytes written, or None (and a message) if the file was left alone."""
    from pin_from import rewrite
    data = rewrite.splice(loaded.text, edits).encode('utf-8')
    try:
        rewrite.write_atomic(loaded.path, data, loaded.data)
    except DockerfileError as e:
        print(cli.file_error(loaded.path, e))
        return None
    return data


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
    parser.add_argument(
        '--update', action='store_true',
        help='also re-resolve tag@digest references and re-pin moved tags',
    )
    parser.add_argument(
        '--report', metavar='FILE',
        help='with --update: write a Markdown report of what changed (a PR body)',
    )
    parser.add_argument(
        '--platform', action='append', default=[], metavar='OS/ARCH[/VARIANT]',
        help='with --update: re-pin only if one of these platforms changed '
             '(repeatable; the first is compared in the report, default linux/amd64)',
    )
    cli.add_library_url_option(
        parser, 'with --update: official-images library/ files, to link the entry behind a moved official tag',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run_main('pin-from', build_parser(), run, argv)


if __name__ == '__main__':
    raise SystemExit(main())
