"""``check-deprecated-tags --eol``: the options, and the verdicts on each reference.

Off unless ``--eol URL_OR_DIR`` (or ``PIN_FROM_EOL``) names a source. The data
is read once per run (:func:`pin_from.support.endoflife.load`); a source that
cannot be read gives no verdict and one line. Each judged reference gets the
verdicts of :func:`pin_from.support.eol.judge`, as text lines and as
:class:`~pin_from.render.output.Lifecycle` values for JSON and SARIF.
"""
from __future__ import annotations

import argparse
import datetime
import os
from typing import Callable
from typing import Iterable
from typing import NamedTuple
from typing import Sequence
from typing import TYPE_CHECKING

from pin_from.errors import PinFromError
from pin_from.errors import UsageError
from pin_from.render.output import Lifecycle

if TYPE_CHECKING:
    from pin_from.options import Options
    from pin_from.support.endoflife import Data
    from pin_from.support.eol import Index
    from pin_from.support.eol import Window
    from pin_from.support.sources import Fetcher

# For tests only: fixes "today" (YYYY-MM-DD) so that end-of-life verdicts do not change with the date.
TESTS_TODAY_ENV = 'PIN_FROM_TESTS_ONLY_TODAY'


def _duration(text: str) -> float:
    """``--eol-warn``, ``--eol-fail-within``: ``12h``, ``90d``, ``8w`` in seconds."""
    from pin_from.steps.update import duration
    try:
        return duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--eol', metavar='URL_OR_DIR', default=None,
        help='also judge end-of-life dates from endoflife.date: its API URL '
             '(https://endoflife.date/api/v1/products/full), a directory of its product .md files or API JSON, '
             'or a JSON file (env PIN_FROM_EOL; default: off)',
    )
    parser.add_argument(
        '--eol-warn', type=_duration, default=None, metavar='DURATION',
        help='warn when a release cycle ends within DURATION (12h, 90d, 8w; default 90d)',
    )
    parser.add_argument(
        '--eol-fail-within', type=_duration, default=None, metavar='DURATION',
        help='fail, not just warn, when a release cycle ends within DURATION (default: only once it has ended)',
    )


class Settings(NamedTuple):
    source: str
    window: Window
    today: datetime.date


def settings(opts: Options) -> Settings | None:
    """The run's end-of-life settings (the options are checked in :mod:`pin_from.options`); None when off."""
    if opts.eol is None:
        return None
    from pin_from.support.eol import Window
    fail = None if opts.eol_fail_within is None else datetime.timedelta(seconds=opts.eol_fail_within)
    return Settings(opts.eol, Window(datetime.timedelta(seconds=opts.eol_warn), fail), _today())


def _today() -> datetime.date:
    fixed = os.environ.get(TESTS_TODAY_ENV)
    if fixed:
        try:
            return datetime.date.fromisoformat(fixed)
        except ValueError:
            raise UsageError(f'{TESTS_TODAY_ENV}={fixed!r}: expected YYYY-MM-DD') from None
    return datetime.datetime.now(datetime.timezone.utc).date()


def unreadable(error: PinFromError) -> str:
    """One line per run when the data cannot be read: the cause and the ways out."""
    return (
        f'cannot read the end-of-life data: {error}. No end-of-life verdict was given. Ways out: '
        '--eol DIR or PIN_FROM_EOL=DIR (a clone of endoflife-date/endoflife.date, or saved API JSON), '
        'a warmed cache with --offline, or leave --eol out'
    )


class Result(NamedTuple):
    said: list[list[str]]  # per verdict worth a word: its line (``image:tag: ...``), then indented ones
    lifecycles: tuple[Lifecycle, ...]
    failed: bool  # a verdict fails the run
    why_none: str | None  # no image verdict: why (for -v)


class Check:
    """The data of one run, loaded once, and the judgement of each reference."""

    def __init__(self, settings: Settings, data: Data) -> None:
        self.settings = settings
        self.data = data
        self._index: Index | None = None
        self._judged: dict[tuple[str, str, bool], Result] = {}  # a reference met again is judged once

    @classmethod
    def load(cls, settings: Settings, fetcher: Fetcher) -> Check:
        from pin_from.support import endoflife
        return cls(settings, endoflife.load(settings.source, fetcher))

    def base_candidates(self, tags: Iterable[str]) -> set[str]:
        """Image names whose library files tell whether an OS is an official image."""
        from pin_from.support.eol import Index
        return Index(self.data, lambda name: False).base_candidates(tags)

    def index(self, official: Callable[[str], bool]) -> None:
        from pin_from.support.eol import Index
        self._index = Index(self.data, official)

    def judge(self, image: str, tag: str, listed: Sequence[str] | None) -> Result:
        key = (image, tag, listed is None)
        if key not in self._judged:
            self._judged[key] = self._judge(image, tag, listed)
        return self._judged[key]

    def _judge(self, image: str, tag: str, listed: Sequence[str] | None) -> Result:
        from pin_from.support import eol
        assert self._index is not None, 'index() first'
        today = self.settings.today
        judgement = eol.judge(self._index, image, tag, today, self.settings.window, listed)
        shown = f'{image}:{tag}'
        said: list[list[str]] = []
        found = []
        failed = False
        for verdict in judgement.verdicts:
            text = eol.message(shown, verdict, today)
            level = 'error' if verdict.fails else 'warning' if verdict.status == eol.ENDING else 'none'
            failed |= verdict.fails
            if level != 'none':
                lines = [f'warning: {text}' if level == 'warning' else text]
                if verdict.suggestion is not None:
                    lines.append(f'    suggestion: {verdict.suggestion}')
                elif listed is not None:
                    lines.append('    no supported tag of the same variant is listed')
                said.append(lines)
            cycle = verdict.cycle
            found.append(Lifecycle(
                verdict.subject, cycle.product, cycle.name, cycle.title,
                None if cycle.eol is None else cycle.eol.isoformat(), verdict.status, level, text,
                verdict.suggestion,
            ))
        return Result(said, tuple(found), failed, judgement.why_none)
