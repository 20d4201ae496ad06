"""The ``check-deprecated-tags`` hook: official-image tags must still be supported.

A tag of ``docker.io/library/<name>`` is supported iff it is listed in some
entry's ``Tags`` or ``SharedTags`` of docker-library/official-images'
``library/<name>`` (bashbrew's rule). A missing file means the image is no
longer official; a file without entries means it is deprecated.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable
from typing import NamedTuple
from typing import Sequence
from typing import TypeVar

from pin_from import cli
from pin_from import sources
from pin_from.cache import Cache
from pin_from.sites import Site
from pin_from.errors import PinFromError

PROG = 'check-deprecated-tags'
T = TypeVar('T')


class Verdict(NamedTuple):
    """What the data says about one image (fetched once per run)."""

    library: object | None  # pin_from.library.Library, or None: not official
    error: PinFromError | None = None


class _Data:
    def __init__(self, args: argparse.Namespace) -> None:
        policy = sources.Policy(args.library_ttl, args.offline, args.timeout)
        self.fetcher = sources.Fetcher(Cache(cli.cache_dir(args)), policy)
        self.library_url = args.library_url
        self.docs_url = args.docs_url

    def verdict(self, name: str) -> Verdict:
        from pin_from import library
        try:
            text = self.fetcher.get(self.library_url, name)
            return Verdict(None if text is None else library.parse_library(name, text))
        except PinFromError as e:
            return Verdict(None, e)

    def notice(self, name: str) -> object | None:
        """The docs' deprecation notice, fetched only for images with findings."""
        from pin_from import notices
        try:
            text = self.fetcher.get(self.docs_url, f'{name}/deprecated.md')
        except PinFromError as e:
            print(f'{PROG}: no deprecation notice for {name}: {e}', file=sys.stderr)
            return None
        return None if text is None else notices.parse_notice(name, text)


def _judged(site: Site) -> bool:
    return site.ref.is_official and not (site.ref.tag is None and site.ref.digest)


def _skip_reason(site: Site) -> str:
    if not site.ref.is_official:
        return 'not an official image'
    return 'digest-only reference; no tag to judge'


def _supported(site: Site, verdict: Verdict) -> bool:
    from pin_from import library
    lib = verdict.library
    return isinstance(lib, library.Library) and site.ref.effective_tag in lib.tags


def _finding(site: Site, verdict: Verdict) -> list[str]:
    """Lines for one unsupported reference (notice lines added by the caller)."""
    from pin_from import library
    ref = site.ref
    shown = f'{ref.official_name}:{ref.effective_tag}'
    lib = verdict.library
    lines = []
    if lib is None:
        lines.append(f"{shown}: '{ref.official_name}' is no longer an official image (library/{ref.official_name} is gone)")
    elif isinstance(lib, library.Library) and lib.is_deprecated:
        lines.append(f"{shown}: the official image '{ref.official_name}' is deprecated; no tag is supported")
    else:
        assert isinstance(lib, library.Library)
        lines.append(f"{shown} is no longer supported by the official image '{ref.official_name}'")
        suggestions = library.suggest(lib, ref.effective_tag)
        if suggestions:
            lines.append(f'    supported tags of the same variant: {", ".join(suggestions)}')
    return lines


def _notice_lines(notice: object | None) -> list[str]:
    from pin_from import notices
    if not isinstance(notice, notices.Notice):
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


def run(args: argparse.Namespace) -> int:
    loaded, retv = cli.load_all(args.filenames, args.verbose)
    names = sorted({
        s.ref.official_name for f in loaded for s in f.scan.sites if _judged(s)
    })
    data = _Data(args)
    verdicts = _map(data.verdict, names)

    flagged = sorted({
        s.ref.official_name for f in loaded for s in f.scan.sites
        if _judged(s) and verdicts[s.ref.official_name].error is None
        and not _supported(s, verdicts[s.ref.official_name])
    })
    notices = _map(data.notice, flagged)

    for f in loaded:
        for site in f.scan.sites:
            if not _judged(site):
                if args.verbose:
                    print(f'{f.path}:{site.line}: skipped {site.text}: {_skip_reason(site)}')
                continue
            verdict = verdicts[site.ref.official_name]
            if verdict.error is not None:
                print(f'{f.path}:{site.line}: {site.text}: {verdict.error}')
                retv = 1
                continue
            if _supported(site, verdict):
                continue
            lines = _finding(site, verdict) + _notice_lines(notices[site.ref.official_name])
            print(f'{f.path}:{site.line}: {lines[0]}')
            for line in lines[1:]:
                print(line)
            retv = 1
    return retv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Fail when a Dockerfile uses an official-image tag that '
                    'docker-library/official-images no longer lists.',
    )
    cli.add_common_options(parser)
    cli.add_library_url_option(parser, 'where library/<name> files come from')
    parser.add_argument(
        '--docs-url', metavar='URL_OR_DIR',
        default=os.environ.get('PIN_FROM_DOCS_URL') or sources.DEFAULT_DOCS_URL,
        help='where <name>/deprecated.md notices come from (env '
             'PIN_FROM_DOCS_URL; default: docker-library/docs on GitHub)',
    )
    parser.add_argument(
        '--library-ttl', type=float, default=sources.DEFAULT_TTL, metavar='SECONDS',
        help=f'how long fetched files stay fresh (default {sources.DEFAULT_TTL})',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run_main(PROG, build_parser(), run, argv)


if __name__ == '__main__':
    raise SystemExit(main())
