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
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple
from typing import Sequence

from pin_from import cli
from pin_from import sources
from pin_from.cache import Cache
from pin_from.dockerfile import Site
from pin_from.errors import DockerfileError
from pin_from.errors import PinFromError

PROG = 'check-deprecated-tags'


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


def run(args: argparse.Namespace) -> int:
    retv = 0
    loaded = []
    for path in args.filenames:
        try:
            loaded.append(cli.load(path))
        except DockerfileError as e:
            print(cli.file_error(path, e))
            retv = 1
    names = sorted({
        s.ref.official_name for f in loaded for s in f.scan.sites if _judged(s)
    })
    data = _Data(args)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(names)))) as pool:
        verdicts = dict(zip(names, pool.map(data.verdict, names)))

    flagged = sorted({
        s.ref.official_name for f in loaded for s in f.scan.sites
        if _judged(s) and verdicts[s.ref.official_name].error is None
        and not _supported(s, verdicts[s.ref.official_name])
    })
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(flagged)))) as pool:
        notices = dict(zip(flagged, pool.map(data.notice, flagged)))

    for f in loaded:
        for problem in f.scan.problems:
            print(f'{f.path}:{problem.line}: {problem.text}: {problem.reason}')
            retv = 1
        if args.verbose:
            for skip in f.scan.skips:
                print(f'{f.path}:{skip.line}: skipped {skip.text}: {skip.reason}')
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
    parser.add_argument(
        '--library-url', metavar='URL_OR_DIR',
        default=os.environ.get('PIN_FROM_LIBRARY_URL') or sources.DEFAULT_LIBRARY_URL,
        help='where library/<name> files come from (env PIN_FROM_LIBRARY_URL; '
             'default: docker-library/official-images on GitHub)',
    )
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
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except PinFromError as e:
        print(f'{PROG}: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    raise SystemExit(main())
