"""-v lines come in file order, and in line order within a file (issue 19)."""
from __future__ import annotations

import re


def test_verbose_lines_come_in_file_and_line_order(hub, tmp_path, capsys):
    hub.push('alpine', '3.20')
    hub.push('busybox', '1.37')
    first = tmp_path / 'a.Dockerfile'
    first.write_text(
        'FROM alpine:3.20 AS build\n'        # 1: pinned
        'FROM build AS again\n'              # 2: skipped, a stage
        'COPY --from=busybox:1.37 / /\n'     # 3: pinned
        'FROM scratch\n'                     # 4: skipped
        'COPY --from=build / /\n'            # 5: skipped, a stage
        'COPY --from=alpine:3.20 / /\n'      # 6: pinned
    )
    notes = tmp_path / 'notes.md'  # of no known kind: its -v line belongs between the two files
    notes.write_text('FROM alpine:3.20\n')
    second = tmp_path / 'b.Dockerfile'
    second.write_text('FROM scratch\nFROM busybox:1.37\n')
    assert hub.main('-v', first, notes, second) == 1
    out = capsys.readouterr().out
    said = [(m.group(1), int(m.group(2) or 0)) for m in re.finditer(r'^(\S+?)(?::(\d+))?: ', out, re.M)]
    a_lines = [line for path, line in said if path == str(first)]
    assert a_lines == [1, 2, 3, 4, 5, 6], out
    assert [line for path, line in said if path == str(second)] == [1, 2], out
    order = [path for path, _ in said]
    assert order.index(str(second)) > max(i for i, p in enumerate(order) if p == str(first)), out
