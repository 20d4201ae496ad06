"""The ``pin-from`` hook: every base-image tag becomes ``tag@sha256:<digest>``.

It reads as its steps: parse options, load the files, resolve the tags,
(with ``--update``) find the moves, edit, write, report.
"""
from __future__ import annotations

import argparse
import os
import threading
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from import cli
from pin_from import edit
from pin_from import files
from pin_from import results
from pin_from.cache import Cache
from pin_from.cache import DEFAULT_TTL
from pin_from.errors import FileError
from pin_from.errors import PinFromError
from pin_from.errors import UsageError
from pin_from.manifest import parse_platform
from pin_from.manifest import Platform
from pin_from.output import Output
from pin_from.policy import Policy
from pin_from.reference import Reference

if TYPE_CHECKING:
    from pin_from.http import Http
    from pin_from.library import Library
    from pin_from.memo import Memo
    from pin_from.registry import Client
    from pin_from.report import Move
    from pin_from.report import Source
    from pin_from.update import Result


class _Run:
    """One invocation's shared parts, each made on first use: the cache, the one
    HTTP session, the registry client, the library files."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.update = bool(args.update)
        self.mirrors = cli.mirrors(args)  # checked before any file is read
        self.insecure = cli.insecure(args)
        self.cache = Cache(cli.cache_dir(args), out.note)
        self._lock = threading.Lock()
        self._http: Http | None = None
        self._client: Client | None = None
        self._libraries: dict[str, Library | str | None] = {}

    def http(self) -> Http:
        with self._lock:
            if self._http is None:
                from pin_from.http import Http
                self._http = Http(self.args.timeout, self.insecure)
            return self._http

    def client(self) -> Client:
        http = self.http()
        with self._lock:
            if self._client is None:
                from pin_from import credentials
                from pin_from import registry
                options = registry.Options(self.mirrors, self.insecure, credentials.Lookup())
                self._client = registry.Client(http, options)
            return self._client

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def resolve(self, loaded: list[files.Loaded]) -> dict[Reference, edit.Outcome]:
        refs = {s.ref for f in loaded for s in f.scan.sites if edit.wanted(s, self.update)}
        if not refs:
            return {}
        from pin_from.resolve import Resolver
        rules = Policy(
            self.args.cache_ttl, offline=self.args.offline,
            refresh=self.args.refresh or self.update, stale_if_unavailable=not self.update,
        )
        return Resolver(self.cache, rules, self.client, self.out.note, self.args.jobs).resolve(refs)

    def source(self, ref: Reference) -> Source | str | None:
        """The official-images entry behind a moved official tag, for the report."""
        if not ref.is_official:
            return None
        from pin_from import update
        lib = self._library(ref.official_name)
        if isinstance(lib, str) or lib is None:
            return lib
        return update.library_source(lib, ref.effective_tag)

    def _library(self, name: str) -> Library | str | None:
        """library/<name>, read once per run: the parsed file, None when there
        is none, or why it could not be read."""
        if name not in self._libraries:
            from pin_from import library
            from pin_from import sources
            url = cli.library_url(self.args)
            rules = Policy(sources.DEFAULT_TTL, offline=self.args.offline)
            try:
                text = sources.Fetcher(self.cache, rules, self.http, self.out.note).get(url, name)
                self._libraries[name] = None if text is None else library.parse_library(name, text)
            except PinFromError as e:
                self._libraries[name] = f'the official-images library could not be read ({e})'
        return self._libraries[name]


def run(args: argparse.Namespace, out: Output) -> int:
    _check_options(args)
    state = _Run(args, out)
    try:
        return _run(state)
    finally:
        state.close()


def _run(state: _Run) -> int:
    args, out = state.args, state.out
    memo = _memo(state)
    batch = files.load_all(args.filenames, args.verbose and not out.structured, memo, args.kinds)
    for finding in batch.findings:
        out.at(finding.path, finding.line, finding.text)
    status = cli.FAILED if batch.failed else cli.OK

    answers = state.resolve(batch.files)
    result = _moves(state, batch.files, answers) if state.update else None
    keep = result.keep if result is not None else frozenset()
    for loaded in batch.files:
        status |= _edit(state, loaded, answers, keep, memo)
    if memo is not None:
        memo.save()
    if result is not None:
        for note in result.held if args.verbose else ():
            out.line(note)
        status |= _report(state, result.moves)
    return status


def _memo(state: _Run) -> Memo | None:
    """Plain runs skip lexing unchanged, pinned files; -v, --update and --format json need every site."""
    if state.args.verbose or state.update or state.out.structured:
        return None
    from pin_from.memo import Memo
    return Memo(state.cache)


def _moves(state: _Run, loaded: list[files.Loaded], answers: dict[Reference, edit.Outcome]) -> Result:
    from pin_from import update
    from pin_from.changes import Inspector
    rows = update.moved(loaded, answers)
    result = update.Updater(Inspector(state.client(), state.cache), state.args.platform, state.source).run(rows)
    for ref in list(answers):  # an unreadable new image is an error: never pinned
        error = result.errors.get((ref.tag_only(), str(answers[ref])))
        if error is not None:
            answers[ref] = error
    return result


def _edit(
        state: _Run, loaded: files.Loaded, answers: dict[Reference, edit.Outcome],
        keep: frozenset[tuple[Reference, str]], memo: Memo | None,
) -> int:
    args, out = state.args, state.out
    plan = edit.plan(loaded.text, loaded.scan, answers, state.update, keep)
    for result in results.pins(loaded, answers, state.update, keep, args.check, bool(plan.failures)):
        out.result(result)  # json: every reference; text: the lines below
    if args.verbose:
        for skip in plan.skipped:
            out.said(loaded.path, skip.line, f'skipped {skip.text}: {skip.reason}')
    for failure in plan.failures:
        out.said(loaded.path, failure.line, f'{failure.text}: {failure.reason}')
    if plan.failures:
        return cli.FAILED  # the file stays untouched
    if not plan.changes:
        return cli.OK
    for change in plan.changes:
        verb = ('would re-pin' if args.check else 're-pinned') if change.repin else (
            'would pin' if args.check else 'pinned')
        out.said(loaded.path, change.line, f'{verb} {change.old} -> {change.new}')
    if args.check:
        return cli.CHANGED
    data = plan.text.encode('utf-8')
    from pin_from import rewrite
    try:
        rewrite.write_atomic(loaded.path, data, loaded.data)
    except FileError as e:
        out.at(loaded.path, e.line, str(e))
        return cli.FAILED
    if memo is not None:  # every wanted reference was pinned
        memo.written(loaded, data)
    return cli.CHANGED


def _report(state: _Run, moves: list[Move]) -> int:
    from pin_from import report
    args, out = state.args, state.out
    platform = str(args.platform[0]) if args.platform else 'linux/amd64'
    if not args.report:
        for line in report.summary(moves):
            out.line(line)
        return cli.OK
    try:
        _write_report(args.report, report.markdown(moves, platform))
    except OSError as e:
        out.note(f'cannot write the report {args.report}: {(e.strerror or str(e)).lower()}')
        return cli.FAILED
    return cli.OK


def _write_report(path: str, text: str) -> None:
    """Atomically for a file; in place for a device or pipe (``/dev/stdout``),
    which must never be replaced by a file."""
    import stat
    import tempfile
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.pin-from-report-', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _check_report_path(path: str) -> None:
    """Before any file is touched: the report can be written there."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f'--report {path}: is a directory')
    if not os.path.isdir(directory):
        raise UsageError(f'--report {path}: no such directory {directory}')
    if not os.access(directory, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f'--report {path}: not writable')


def _check_options(args: argparse.Namespace) -> None:
    if not args.update:
        for flag, given in (('--report', args.report), ('--platform', args.platform),
                            ('--library-url', args.library_url)):
            if given:
                raise UsageError(f'{flag} needs --update')
        return
    if args.offline:
        raise UsageError('--update re-pins only from answers fetched in this run; it cannot be --offline')
    if args.report:
        _check_report_path(args.report)
    from pin_from import sources
    url = cli.library_url(args)
    if not sources.is_url(url):
        sources.check_library_dir(url, '--library-url')


def _platform(text: str) -> Platform:
    try:
        return parse_platform(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser(prog: str = 'pin-from') -> argparse.ArgumentParser:
    parser = cli.Parser(
        prog=prog,
        description='Pin every base image in Dockerfiles to tag@sha256:<digest>.',
    )
    cli.add_common_options(parser)
    cli.add_registry_options(parser)
    cli.add_format_option(parser)
    parser.add_argument(
        '--check', action='store_true',
        help='write nothing; exit 1 if any file would change',
    )
    parser.add_argument(
        '--cache-ttl', type=cli.ttl, default=DEFAULT_TTL, metavar='SECONDS',
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
        '--platform', action='append', default=[], metavar='OS/ARCH[/VARIANT]', type=_platform,
        help='with --update: re-pin only if one of these platforms changed '
             '(repeatable; the first is compared in the report, default linux/amd64)',
    )
    cli.add_library_url_option(
        parser, 'with --update: official-images library/ files, to link the entry behind a moved official tag',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run_main(build_parser(), run, argv)


if __name__ == '__main__':
    raise SystemExit(main())
