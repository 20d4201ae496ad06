"""The ``pin-from`` hook's run, past the steady state (:mod:`pin_from.pin` is the hook).

It reads as its steps: parse options, load the files, resolve the tags,
(with ``--update``) find the moves, edit, write, report; then, for a plain run
that said nothing, record the files it left clean (:mod:`pin_from.steady`).
"""
from __future__ import annotations

import argparse
import os
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from import cli
from pin_from import steady
from pin_from.files import edit
from pin_from.files import load as files
from pin_from.registry.cache import DEFAULT_TTL
from pin_from.errors import FileError
from pin_from.errors import PinFromError
from pin_from.options import Options
from pin_from.services import Services
from pin_from.render.output import Output
from pin_from.registry.policy import Policy
from pin_from.reference import Reference

if TYPE_CHECKING:
    from pin_from.registry.manifest import Platform
    from pin_from.files.memo import Memo
    from pin_from.registry.resolve import Resolver
    from pin_from.explain.report import Move
    from pin_from.steps.update import Updates
    from pin_from.steps.update import Settle
    from pin_from.signatures.gate import Gate
    from pin_from.signatures.rules import Rule
    from concurrent.futures import Future
    from concurrent.futures import ThreadPoolExecutor


class _Run:
    """One invocation: its options, its output and its services (built in one place)."""

    def __init__(self, opts: Options, out: Output, known: steady.Known | None = None) -> None:
        self.opts = opts
        self.out = out
        self.known = known
        self.update = opts.update
        self.services = Services(opts, out.note)
        self.cache = self.services.cache
        self.signature_rules = _signature_rules(opts)  # checked before any file is read
        self._gate: Gate | None = None
        self._resolver: Resolver | None = None

    def gate(self) -> Gate:
        """The signature gate: the rules, over this run's registry client and cache."""
        if self._gate is None:
            from pin_from.registry.changes import Inspector
            from pin_from.signatures.gate import Gate
            client = self.services.client
            self._gate = Gate(self.signature_rules, client, lambda: Inspector(client(), self.cache), self.cache)
        return self._gate

    def resolve(self, loaded: list[files.Loaded]) -> dict[Reference, edit.Outcome]:
        refs = {s.ref for f in loaded for s in f.scan.sites if edit.wanted(s, self.update)}
        if not refs:
            return {}
        return self.resolver().resolve(refs)

    def rules(self) -> Policy:
        """The cache policy of tag answers: --update refreshes and never uses a stale one."""
        return Policy(
            self.opts.cache_ttl, offline=self.opts.offline,
            refresh=self.opts.refresh or self.update, stale_if_unavailable=not self.update,
        )

    def resolver(self) -> Resolver:
        """The run's one resolver (its lookups may start while files are still being read)."""
        if self._resolver is None:
            from pin_from.registry.resolve import Resolver
            self._resolver = Resolver(
                self.cache, self.rules(), self.services.client, self.out.note, self.opts.jobs,
                record_sightings=self.update,  # --min-age's evidence of when a digest appeared
            )
        return self._resolver

    def found(self, loaded: files.Loaded) -> None:
        """A file was read: start looking up the tags it needs that the cache has no fresh answer for."""
        wanted = [s.ref for s in loaded.scan.sites if edit.wanted(s, self.update)]
        if wanted:
            self.resolver().start(wanted)


def _signature_rules(opts: Options) -> tuple[Rule, ...]:
    """The configuration file's [[signatures]] rules (a usage error naming the file and the rule)."""
    if not opts.signatures:
        return ()
    from pin_from.signatures.rules import load_rules
    directory = os.path.dirname(os.path.abspath(opts.config)) if opts.config else os.getcwd()
    return load_rules(list(opts.signatures), directory, opts.config or 'the configuration file')


def run(opts: Options, out: Output, known: steady.Known | None = None) -> int:
    state = _Run(opts, out, known)
    try:
        return _run(state)
    finally:
        if state._resolver is not None:
            state._resolver.close()
        state.services.close()


def _run(state: _Run) -> int:
    opts, out = state.opts, state.out
    memo = _memo(state)
    batch = files.load_all(
        opts.filenames, opts.verbose and not out.structured, memo, opts.kinds, tuple(opts.kind_globs.items()),
        state.known.preread if state.known is not None else None, state.found,
    )
    read: dict[str, list[files.Finding]] = {loaded.path: [] for loaded in batch.files}
    for finding in batch.findings:  # a file's own findings come with its other lines, in line order
        if finding.path in read:
            read[finding.path].append(finding)
        else:
            out.at(finding.path, finding.line, finding.text)
    status = cli.FAILED if batch.failed else cli.OK

    answers = state.resolve(batch.files)
    named = dict(answers)  # what each tag names: the digest a signature must cover
    if opts.pin_platform is not None:
        answers = _pin_platform(state, batch.files, answers)
    if opts.verify:
        status |= _verify(state, batch.files, answers)
    result = _moves(state, batch.files, answers) if state.update else None
    moves = result.decided if result is not None else edit.NO_MOVES
    if state.signature_rules:  # before any write: digests a rule covers must be signed
        from pin_from.steps import signed
        answers = signed.gate(
            state.signature_rules, state.gate, batch.files, answers, named, moves, state.update)
    clean = batch.clean  # known clean, or found so: said nothing, changed nothing
    said: list[tuple[files.Loaded, list[str]]] = []  # --check: what it said of each file to pin
    if _replayable(state):
        out.history = []
    plans = [edit.plan(f.text, f.scan, answers, state.update, moves, opts.check) for f in batch.files]
    writes = _Writes.start(batch.files, plans, opts.jobs) if not opts.check else None
    try:
        for loaded, plan in zip(batch.files, plans):
            printed, start = out.printed, len(out.history or ())
            edited = _edit(state, loaded, plan, memo, read[loaded.path], writes)
            if edited == cli.OK and out.printed == printed:
                clean.append(steady.key(loaded.path, loaded.data))
            elif edited == cli.CHANGED and out.history is not None:
                said.append((loaded, out.history[start:]))
            status |= edited
    finally:
        if writes is not None:
            writes.close()
    if memo is not None:
        memo.save()
        _record(state, clean, said, answers)
    if result is not None:
        for note in result.held + result.evidence if opts.verbose else ():
            out.line(note)
        status |= _report(state, result.moves, result.held)
    return status


def _memo(state: _Run) -> Memo | None:
    """Plain runs skip lexing unchanged, pinned files; -v, --update, --verify and
    --format json need every site."""
    if state.opts.verbose or state.update or state.opts.verify or state.out.structured:
        return None
    from pin_from.files.memo import Memo
    return Memo(state.cache)


def _record(
        state: _Run, clean: list[str], said: list[tuple[files.Loaded, list[str]]],
        answers: dict[Reference, edit.Outcome],
) -> None:
    """A plain run: the files it left clean, and said nothing of, are known clean to the next one;
    a plain ``--check`` that said nothing but its own lines also leaves what it said of each file
    to pin, for as long as the answers it used stay fresh and unchanged."""
    if not _recordable(state):
        return
    assert state.known is not None
    entries: list[steady.Said] = []
    if said and not state.out.notes and not state.out.errors and all('' not in lines for _, lines in said):
        entries = _said(state, said, answers)
    steady.record(state.known, state.opts.filenames, clean, entries)


def _recordable(state: _Run) -> bool:
    """Whether this run may leave a steady record (it came through :mod:`pin_from.steady`, and is plain)."""
    opts = state.opts
    return state.known is not None and steady.eligible(
        opts.verbose, state.update, opts.verify, state.out.structured, bool(opts.signatures))


def _replayable(state: _Run) -> bool:
    """Whether what a --check says of a file depends on nothing but the file, the options and the
    tag answers in tags.json (no --refresh, no platform lookups of --pin-platform)."""
    opts = state.opts
    return _recordable(state) and opts.check and not opts.refresh and opts.pin_platform is None


def _said(
        state: _Run, said: list[tuple[files.Loaded, list[str]]], answers: dict[Reference, edit.Outcome],
) -> list[steady.Said]:
    """The entries for files a --check would pin: each holds until the first of its answers in
    tags.json is no longer fresh, and only with that version of tags.json."""
    import time
    from pin_from.registry.cache import TAGS_FILE
    from pin_from.registry.resolve import tag_key
    version = state.cache.versions.get(TAGS_FILE, '')
    now = time.time()
    fresh_until: dict[Reference, float | None] = {}  # per tag: when its answer stops being fresh

    def until(ref: Reference) -> float | None:
        tag = ref.tag_only()
        if tag not in fresh_until:
            cached = state.cache.tag(tag_key(tag))
            ok = cached is not None and answers.get(ref) == cached.value  # else not from tags.json
            fresh_until[tag] = now - cached.age + state.opts.cache_ttl if ok and cached is not None else None
        return fresh_until[tag]
    ret = []
    for loaded, lines in said:
        times = [until(site.ref) for site in loaded.scan.sites if edit.wanted(site, False)]  # pinned: asked nothing
        if times and None not in times:
            expiry = min(t for t in times if t is not None)
            if now < expiry:  # (offline, a stale answer is used: it is not said again)
                ret.append(steady.Said(loaded.path, loaded.data, cli.CHANGED, expiry, version, lines))
    return ret


def _verify(state: _Run, loaded: list[files.Loaded], answers: dict[Reference, edit.Outcome]) -> int:
    """Every pinned reference still exists, and is (one platform of) what its tag names."""
    from pin_from.registry.changes import Inspector
    from pin_from.steps.verify import Verifier
    pinned = {s.ref for f in loaded for s in f.scan.sites if s.ref.digest and s.ref.tag is not None}
    current = dict(answers)
    missing = {r for r in pinned if r not in current}
    if missing:  # what their tags name today (the usual TTL; --update resolved them already)
        current.update(state.resolver().resolve(missing))
    verifier = Verifier(
        state.cache, state.rules(), state.services.client, lambda: Inspector(state.services.client(), state.cache),
        state.out.note,
    )
    status = cli.OK
    verdicts = verifier.check(loaded, current)
    for verdict in verdicts:
        if verdict.error:
            status = cli.FAILED
        if verdict.error or verdict.status == 'unrelated' or state.opts.verbose:
            state.out.at(verdict.path, verdict.site.line, verdict.text)
    if state.signature_rules:
        from pin_from.steps import signed
        platform_pins = {v.site.ref for v in verdicts if v.status == 'platform-pin'}
        for found in signed.verify(state.gate(), loaded, current, platform_pins, state.opts.verbose):
            status |= cli.FAILED if found.error else cli.OK
            state.out.at(found.path, found.line, found.text)
    return status


def _moves(state: _Run, loaded: list[files.Loaded], answers: dict[Reference, edit.Outcome]) -> Updates:
    from pin_from.steps import update
    from pin_from.registry.changes import Inspector
    from pin_from.explain.attested import Explainer
    from pin_from.support import sources
    rows = update.moved(loaded, answers)
    inspector = Inspector(state.services.client(), state.cache)
    explainer = Explainer(inspector, state.services.osv()) if rows else None
    result = update.Updater(
        inspector, list(state.opts.platform), state.services.libraries(sources.DEFAULT_TTL), explainer, _settle(state),
        state.services.first_seen,
    ).run(rows)
    if result.moves:  # who signed each side; what the new digest lost
        from pin_from.steps import signed
        result = result._replace(moves=signed.annotate(state.gate(), result.moves))
    return result


def _settle(state: _Run) -> Settle | None:
    """--min-age (or PIN_FROM_MIN_AGE): how old a new image must be to be pinned."""
    if state.opts.min_age is None:
        return None
    import time
    from pin_from.steps.update import Settle
    return Settle(state.opts.min_age, time.time())


def _pin_platform(
        state: _Run, loaded: list[files.Loaded], answers: dict[Reference, edit.Outcome],
) -> dict[Reference, edit.Outcome]:
    """--pin-platform: new pins name that platform's manifest, not the tag's index."""
    from pin_from.registry.changes import Inspector
    platform = state.opts.pin_platform
    assert platform is not None
    inspector = Inspector(state.services.client(), state.cache)
    ret = dict(answers)
    for ref in {s.ref for f in loaded for s in f.scan.sites if s.ref.digest is None}:
        index = answers.get(ref)
        if not isinstance(index, str):
            continue
        try:
            found = inspector.platform_digest(ref, index, platform)
        except PinFromError as e:
            ret[ref] = e
            continue
        ret[ref] = found if found is not None else PinFromError(f'{ref.tag_only()} has no {platform} image')
    return ret


class _Writes:
    """A run's writes, started together in a few threads (the fsyncs of a thousand files overlap),
    each awaited in file order, so its lines and errors come out as if it were written then. A
    file reached by two names is written once started, then again in order (as one at a time)."""

    def __init__(self) -> None:
        self._started: dict[str, Future[None]] = {}
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def start(cls, loaded: Sequence[files.Loaded], plans: Sequence[edit.Edit], jobs: int) -> _Writes:
        self = cls()
        todo = [(f, p) for f, p in zip(loaded, plans) if p.changes and not p.failures]
        if len(todo) < 2:
            return self  # one file: written in line, no threads
        from concurrent.futures import ThreadPoolExecutor
        from pin_from.files import rewrite
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(8, jobs)))
        seen: set[tuple[int, int]] = set()
        for f, p in todo:
            try:
                st = os.stat(f.path)
            except OSError:
                continue  # written in order, which says what is wrong
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                self._started[f.path] = self._pool.submit(rewrite.write_atomic, f.path, p.text.encode(), f.data)
        return self

    def write(self, path: str, data: bytes, expected: bytes) -> None:
        """The file written (FileError if it could not be)."""
        started = self._started.pop(path, None)
        if started is None:
            from pin_from.files import rewrite
            rewrite.write_atomic(path, data, expected)
        else:
            started.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _edit(
        state: _Run, loaded: files.Loaded, plan: edit.Edit, memo: Memo | None,
        found: Sequence[files.Finding] = (), writes: _Writes | None = None,
) -> int:
    opts, out = state.opts, state.out
    if out.structured:  # json: every reference; text: the lines below
        from pin_from.render import results  # json: off the steady path
        for result in results.decided(loaded, plan.decisions):
            out.result(result)
    said = [(f.line or 0, f.text, True) for f in found]  # (line, text, a finding of the load)
    if opts.verbose:
        said += [(skip.line or 0, f'skipped {skip.text}: {skip.reason}', False) for skip in plan.skipped]
    said += [(failure.line or 0, f'{failure.text}: {failure.reason}', False) for failure in plan.failures]
    if not plan.failures:  # a file with a failure stays untouched: no change is said
        for change in plan.changes:
            verb = ('would re-pin' if opts.check else 're-pinned') if change.repin else (
                'would pin' if opts.check else 'pinned')
            said.append((change.line, f'{verb} {change.old} -> {change.new}', False))
    for line, text, loading in sorted(said, key=lambda s: s[0]):  # -v: in line order
        (out.at if loading else out.said)(loaded.path, line or None, text)
    if plan.failures:
        return cli.FAILED  # the file stays untouched
    if not plan.changes:
        return cli.OK
    if opts.check:
        return cli.CHANGED
    data = plan.text.encode('utf-8')
    try:
        (writes or _Writes()).write(loaded.path, data, loaded.data)
    except FileError as e:
        out.at(loaded.path, e.line, str(e))
        return cli.FAILED
    if memo is not None:  # every wanted reference was pinned
        memo.written(loaded.kind, data)
    return cli.CHANGED


def _report(state: _Run, moves: list[Move], held: list[str]) -> int:
    from pin_from.explain import report
    from pin_from.files import rewrite
    opts, out = state.opts, state.out
    platform = str(opts.platform[0]) if opts.platform else 'linux/amd64'
    if not opts.report:
        for line in report.summary(moves):
            out.line(line)
        return cli.OK
    try:
        rewrite.write_text(opts.report, report.markdown(moves, platform, held, check=opts.check))
    except OSError as e:
        out.note(f'cannot write the report {opts.report}: {(e.strerror or str(e)).lower()}')
        return cli.FAILED
    return cli.OK


def _duration(text: str) -> str:
    from pin_from.steps.update import duration
    try:
        duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _platform(text: str) -> Platform:
    from pin_from.registry.manifest import parse_platform
    try:
        return parse_platform(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser(prog: str = 'pin-from') -> argparse.ArgumentParser:
    parser = cli.Parser(
        prog=prog,
        description='Pin every image a repository names (Dockerfiles, Compose, Kubernetes, CI files) '
                    'to tag@sha256:<digest>.',
        epilog=cli.epilog((
            (0, 'nothing to change'),
            (1, 'files changed, or would change (--check)'),
            (2, 'usage error: a bad option value, options that need --update'),
            (3, 'an error kept the run from a complete answer (a lookup failed, a file could not be\n'
                '     read or written); 3 wins over 1'),
            (4, 'an unexpected exception (a bug; PIN_FROM_DEBUG=1 shows the traceback)'),
        )),
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
        '--verify', action='store_true',
        help='also check every pinned reference: its digest still exists, and is (a platform of) what its tag names',
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
    parser.add_argument(
        '--min-age', metavar='DURATION', type=_duration,
        help='with --update: re-pin a moved tag only once the new image is this old: 12h, 1d, 2w '
             '(env PIN_FROM_MIN_AGE)',
    )
    parser.add_argument(
        '--pin-platform', metavar='OS/ARCH[/VARIANT]', type=_platform, default=None,
        help="pin new references to this platform's manifest instead of the tag's index",
    )
    parser.add_argument(
        '--osv', metavar='URL_OR_DIR', default=None,
        help='with --update: OSV vulnerabilities for the packages of moved images, from the OSV API '
             '(e.g. https://api.osv.dev) or a directory/zip of OSV records (env PIN_FROM_OSV)',
    )
    return parser


def main(known: steady.Known) -> int:
    """The whole run, for the files ``known`` does not know clean."""
    return cli.run_main(build_parser(), lambda opts, out: run(opts, out, known), known.rest())
