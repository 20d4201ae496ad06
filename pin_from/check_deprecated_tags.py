"""The ``check-deprecated-tags`` hook: official-image tags must still be supported.

A tag of ``docker.io/library/<name>`` is supported iff it is listed in some
entry's ``Tags`` or ``SharedTags`` of docker-library/official-images'
``library/<name>`` (bashbrew's rule). A missing file means the image is no
longer official; a file without entries means it is deprecated. With
``--eol``, the release cycles a tag names are judged by their end-of-life
dates too (:mod:`pin_from.support.eol_check`).
"""
from __future__ import annotations

import argparse
import threading
from typing import Callable
from typing import NamedTuple
from typing import Sequence
from typing import TypeVar
from typing import TYPE_CHECKING

from pin_from import cli
from pin_from.files import load as files
from pin_from.render import results
from pin_from.support import sources
from pin_from.errors import PinFromError
from pin_from.errors import Unavailable
from pin_from.options import Options
from pin_from.services import Services
from pin_from.render.output import Output
from pin_from.render.output import Result
from pin_from.kinds.sites import Site
from pin_from.support import eol_check
from pin_from.support import snapshot
from pin_from.support.libraries import NotInSnapshot
from pin_from.errors import CacheMiss

if TYPE_CHECKING:
    from pin_from.support.library import Library
    from pin_from.support.notices import Notice

T = TypeVar('T')


class LibraryAnswer(NamedTuple):
    """What the library data says about one image (fetched once per run); not a verdict on a
    reference (``steps.verify.Verdict``): a reference's status comes from it and the tag."""

    library: Library | None  # None: not official (no library file)
    error: PinFromError | None = None
    stale: bool = False  # from a snapshot past its age: findings are warnings
    unknown: bool = False  # no file, in a library directory that looks partial: gone only if a notice says so


class _Data:
    """The library files, the docs notices and the end-of-life data, through the run's services."""

    def __init__(self, opts: Options, out: Output, services: Services) -> None:
        self.out = out
        self.libraries = services.libraries(opts.library_ttl, snapshot=True)
        self.fetcher = services.fetcher(opts.library_ttl)
        self.docs_url = opts.docs_url
        self.eol = eol_check.settings(opts)
        self._lock = threading.Lock()
        self._docs_snapshot: snapshot.Snapshot | None = None  # set once the docs could not be reached
        self.library_url = opts.library_url
        self.partial = _partial(opts.library_url)
        self._partial_said = False

    def verdict(self, name: str) -> LibraryAnswer:
        try:
            found = self.libraries.get(name)
            unknown = found is None and self.partial is not None
            if unknown:
                self._say_partial()
            return LibraryAnswer(found, stale=self.libraries.stale(name), unknown=unknown)
        except PinFromError as e:
            return LibraryAnswer(None, e, self.libraries.stale(name))

    def _say_partial(self) -> None:
        """Once, and only when it matters (an image without a file there)."""
        with self._lock:
            if self._partial_said:
                return
            self._partial_said = True
        count = self.partial
        self.out.note(
            f'--library-url {self.library_url}: {count} library file{"s" * (count != 1)} (official-images has '
            'about 140): it looks partial; an image without a file there is not judged, unless its deprecation '
            'notice says it is gone')

    def notice(self, name: str) -> Notice | None:
        """The docs' deprecation notice, fetched only for images with findings. When the docs
        cannot be reached and nothing is cached, the shipped snapshot's notice (said once per run)."""
        from pin_from.support import notices
        try:
            text = self._notice_text(name)
        except PinFromError as e:
            self.out.note(f'no deprecation notice for {name}: {e}')
            return None
        return None if text is None else notices.parse_notice(name, text)

    def _notice_text(self, name: str) -> str | None:
        if self._docs_snapshot is not None:
            return self._docs_snapshot.notice(name)
        try:
            return self.fetcher.get(self.docs_url, f'{name}/deprecated.md')
        except (Unavailable, CacheMiss) as e:
            shipped = snapshot.load() if sources.is_url(self.docs_url) else None
            if shipped is None:
                raise
            with self._lock:
                if self._docs_snapshot is None:
                    self._docs_snapshot = shipped
                    same = self.libraries.snapshot is not None  # its age was said once already
                    self.out.note(f'cannot read the deprecation notices ({e}); using '
                                  + ('the same snapshot' if same else shipped.describe()))
            return shipped.notice(name)


PARTIAL_BELOW = 100  # library files: official-images has about 140


def _partial(library_url: str) -> int | None:
    """The number of files of a local library directory that looks partial, else None."""
    if sources.is_url(library_url):
        return None
    import os
    import re
    try:
        count = sum(1 for name in os.listdir(library_url) if re.fullmatch(r'[a-z0-9][a-z0-9._-]*', name))
    except OSError:
        return None
    return count if count < PARTIAL_BELOW else None


def _judged(site: Site) -> bool:
    return site.ref.is_official and not (site.ref.tag is None and site.ref.digest)


def _skip_reason(site: Site) -> str:
    if not site.ref.is_official:
        return 'not an official image'
    return 'digest-only reference; no tag to judge'


def _shown(site: Site) -> str:
    """``image:tag`` as the user wrote it, without a digest."""
    return f'{site.ref.official_name}:{site.ref.effective_tag}'


def _supported(site: Site, verdict: LibraryAnswer) -> bool:
    return verdict.library is not None and site.ref.effective_tag in verdict.library.tags


def _status(verdict: LibraryAnswer) -> str:
    """The kind of finding (a SARIF rule): unsupported, deprecated or not-official."""
    if verdict.library is None:
        return 'not-official'
    return 'deprecated' if verdict.library.is_deprecated else 'unsupported'


def _suggestions(site: Site, verdict: LibraryAnswer) -> list[str]:
    from pin_from.support import library
    if verdict.library is None or verdict.library.is_deprecated:
        return []
    return list(library.suggest(verdict.library, site.ref.effective_tag))


def _finding(site: Site, verdict: LibraryAnswer) -> list[str]:
    """Lines for one unsupported reference (notice lines added by the caller)."""
    name = site.ref.official_name
    shown = _shown(site)
    lib = verdict.library
    if lib is None:
        return [f"{shown}: '{name}' is no longer an official image (library/{name} is gone)"]
    if lib.is_deprecated:
        return [f"{shown}: the official image '{name}' is deprecated; no tag is supported"]
    lines = [f"{shown} is no longer supported by the official image '{name}'"]
    suggestions = _suggestions(site, verdict)
    if suggestions:
        lines.append(f'    supported tags of the same variant: {", ".join(suggestions)}')
    return lines


def _notice_lines(notice: Notice | None) -> list[str]:
    if notice is None:
        return []
    lines = []
    if notice.first_sentence:
        lines.append(f'    notice: {notice.first_sentence}')
    if notice.alternatives:
        lines.append(f'    alternatives: {", ".join(notice.alternatives)}')
    return lines


def _map(fn: Callable[[str], T], names: list[str]) -> dict[str, T]:
    """``fn`` over image names, a few at a time (each may be a download)."""
    if len(names) <= 1:
        return {n: fn(n) for n in names}
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
        return dict(zip(names, pool.map(fn, names)))


def _unreachable(error: PinFromError) -> str:
    """One line per run when the library cannot be read: the cause and the ways out."""
    return (
        f'cannot read the official-images library: {error}. Ways out: '
        '--library-url DIR or PIN_FROM_LIBRARY_URL=DIR (the library/ folder of a git clone of '
        'docker-library/official-images), a warmed cache with --offline, or skip the hook '
        '(SKIP=check-deprecated-tags git commit ...)'
    )


def run(opts: Options, out: Output) -> int:
    services = Services(opts, out.note)
    try:
        return _run(opts, out, _Data(opts, out, services))
    finally:
        services.close()


def _run(opts: Options, out: Output, data: _Data) -> int:
    batch = files.load_all(
        opts.filenames, opts.verbose and not out.structured, only=opts.kinds,
        overrides=tuple(opts.kind_globs.items()),
    )
    for finding in batch.findings:
        out.at(finding.path, finding.line, finding.text)
    status = cli.FAILED if batch.failed else cli.OK
    for skip in ((f, s) for f in batch.files for s in f.scan.skips):
        out.result(results.skipped(*skip))  # json; text shows these with -v, as findings
    sites = [(f, s) for f in batch.files for s in f.scan.sites]
    verdicts = _map(data.verdict, sorted({s.ref.official_name for _, s in sites if _judged(s)}))
    unavailable = [v.error for v in verdicts.values() if isinstance(v.error, Unavailable)]
    if unavailable:
        out.error(_unreachable(unavailable[0]))
        status |= cli.FAILED
    flagged = sorted({
        s.ref.official_name for _, s in sites
        if _judged(s) and verdicts[s.ref.official_name].error is None
        and not _supported(s, verdicts[s.ref.official_name])
    })
    notices = _map(data.notice, flagged)
    eol, eol_status = _eol_check(data, out, [s for _, s in sites if _judged(s)], verdicts)
    status |= eol_status
    for loaded, site in sites:
        status |= _judge(out, loaded, site, verdicts, notices, opts.verbose, eol)
    return status


def _eol_check(
        data: _Data, out: Output, sites: list[Site], verdicts: dict[str, LibraryAnswer],
) -> tuple[eol_check.Check | None, int]:
    """The end-of-life data (``--eol``), loaded once; a source that cannot be read is one line, exit 3."""
    if data.eol is None or not sites:
        return None, cli.OK
    try:
        check = eol_check.Check.load(data.eol, data.fetcher)
    except PinFromError as e:
        out.error(eol_check.unreadable(e))
        return None, cli.FAILED
    # whether an operating system is an official image (bookworm names Debian, stable no official one)
    wanted = check.base_candidates({s.ref.effective_tag for s in sites}) - set(verdicts)
    more = _map(data.verdict, sorted(wanted))
    check.index(lambda name: (verdicts.get(name) or more.get(name) or LibraryAnswer(None)).library is not None)
    return check, cli.OK


def _judge(
        out: Output, loaded: files.Loaded, site: Site, verdicts: dict[str, LibraryAnswer],
        notices: dict[str, Notice | None], verbose: bool, eol: eol_check.Check | None = None,
) -> int:
    if not _judged(site):
        reason = _skip_reason(site)
        out.result(results.at_site(loaded, site, 'skipped', None, None, reason),
                   [f'skipped {site.text}: {reason}'] if verbose else [])
        return cli.OK
    result, lines, status = _library_judgement(loaded, site, verdicts, notices)
    if eol is None:
        out.result(result, lines)
        return status
    lib = verdicts[site.ref.official_name].library
    listed = None if lib is None else sorted(lib.tags)
    judged = eol.judge(site.ref.official_name, site.ref.effective_tag, listed)
    out.result(result._replace(lifecycles=judged.lifecycles), lines)
    for said in judged.said:
        out.said(loaded.path, site.line, said[0])
        for more in said[1:]:
            out.said_more(more)
    if verbose:
        quiet = [lc.message for lc in judged.lifecycles if lc.level == 'none']
        if judged.why_none is not None:
            quiet.insert(0, f'{_shown(site)}: no end-of-life verdict: {judged.why_none}')
        for text in quiet:
            out.said(loaded.path, site.line, text)
    return status | (cli.CHANGED if judged.failed else cli.OK)


def _library_judgement(
        loaded: files.Loaded, site: Site, verdicts: dict[str, LibraryAnswer], notices: dict[str, Notice | None],
) -> tuple[Result, list[str], int]:
    """What the library says about a judged reference: its result, its lines, the exit status."""
    tag = site.ref.effective_tag
    verdict = verdicts[site.ref.official_name]
    if isinstance(verdict.error, NotInSnapshot):  # no verdict: a warning, not a failure
        return (results.at_site(loaded, site, 'skipped', tag, None, str(verdict.error)),
                [f'{_shown(site)}: warning: {verdict.error}'], cli.OK)
    if verdict.error is not None:
        said = isinstance(verdict.error, Unavailable)  # said once for the run
        return (results.at_site(loaded, site, 'error', tag, None, str(verdict.error)),
                [] if said else [f'{_shown(site)}: {verdict.error}'], cli.FAILED)
    if _supported(site, verdict):
        return results.at_site(loaded, site, 'supported', tag, tag), [], cli.OK
    notice = notices[site.ref.official_name]
    if verdict.unknown and notice is None:  # absent from a partial directory: not a verdict
        reason = f'library/{site.ref.official_name} is not in the (partial) library directory: not judged'
        return results.at_site(loaded, site, 'skipped', tag, None, reason), [f'{_shown(site)}: warning: {reason}'], cli.OK
    lines = _finding(site, verdict) + _notice_lines(notice)
    if verdict.stale:  # the snapshot is past its age: a tag released since may be missing from it
        lines[0] = f'warning: {lines[0]} (by an official-images snapshot older than {snapshot.MAX_AGE_DAYS} days)'
        return _found(loaded, site, verdict, notice, lines[0]), lines, cli.OK
    return _found(loaded, site, verdict, notice, lines[0]), lines, cli.CHANGED


def _found(loaded: files.Loaded, site: Site, verdict: LibraryAnswer, notice: Notice | None, reason: str) -> Result:
    """The structured finding: its kind, the suggested tags, the notice."""
    suggestions = tuple(_suggestions(site, verdict))
    return results.at_site(
        loaded, site, _status(verdict), site.ref.effective_tag, suggestions[0] if suggestions else None, reason,
    )._replace(
        suggestions=suggestions,
        notice=notice.first_sentence if notice is not None and notice.first_sentence else None,
        alternatives=tuple(notice.alternatives) if notice is not None else (),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = cli.Parser(
        prog='check-deprecated-tags',
        description='Fail when a file uses an official-image tag that '
                    'docker-library/official-images no longer lists.',
        epilog=cli.epilog((
            (0, 'every tag is supported'),
            (1, 'unsupported, deprecated or no-longer-official tags found'),
            (2, 'usage error: a bad option value'),
            (3, 'an error kept the run from a complete answer (the library could not be read, a\n'
                '     file could not be read); 3 wins over 1'),
            (4, 'an unexpected exception (a bug; PIN_FROM_DEBUG=1 shows the traceback)'),
        )),
    )
    cli.add_common_options(parser)
    cli.add_format_option(parser, ('text', 'json', 'sarif'))
    cli.add_library_url_option(parser, 'where library/<name> files come from')
    parser.add_argument(
        '--docs-url', metavar='URL_OR_DIR', default=None,
        help='where <name>/deprecated.md notices come from (env '
             'PIN_FROM_DOCS_URL; default: docker-library/docs on GitHub)',
    )
    parser.add_argument(
        '--library-ttl', type=cli.ttl, default=sources.DEFAULT_TTL, metavar='SECONDS',
        help=f'how long fetched files stay fresh (default {sources.DEFAULT_TTL})',
    )
    eol_check.add_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run_main(build_parser(), run, argv)


if __name__ == '__main__':
    raise SystemExit(main())
