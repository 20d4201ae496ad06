"""The ``pin-from`` hook: every base-image tag becomes ``tag@sha256:<digest>``.

:func:`main` first asks :mod:`pin_from.steady` which files are known clean
(unchanged since a run like this one left them alone): when all are, it exits
0 without importing anything else (and a ``--check`` whose files were all
found before, on answers still fresh, says again what it said). The run itself is
:mod:`pin_from.steps.pinning`. This module imports nothing else at its top, not
even ``typing``: it is what every commit starts.
"""
from __future__ import annotations

import sys

from pin_from import steady

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    known = steady.check(sys.argv[1:] if argv is None else argv)
    if known.all_clean:  # nothing to do, or a --check that says again what it said
        if known.lines:
            sys.stdout.write(''.join(f'{line}\n' for line in known.lines))
        return known.status
    from pin_from.steps import pinning
    return pinning.main(known)


def build_parser(prog: str = 'pin-from') -> argparse.ArgumentParser:
    from pin_from.steps import pinning
    return pinning.build_parser(prog)


if __name__ == '__main__':
    raise SystemExit(main())
