"""--help says what FILE is, every kind and the names it recognises, and the exit codes; no
option is taken by a prefix."""
from __future__ import annotations

import pytest

from pin_from import check_deprecated_tags
from pin_from import kinds
from pin_from import pin

HOOKS = (pin.main, check_deprecated_tags.main)


@pytest.mark.parametrize('main', HOOKS)
def test_help_names_every_kind_file_and_the_exit_codes(main, capsys):
    with pytest.raises(SystemExit) as exited:
        main(['--help'])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert 'FILE is a file, or a directory' in out
    for name, names in kinds.recognised().items():
        assert names, name  # the module's table describes every kind
        assert f'  {name.ljust(max(map(len, kinds.KINDS)))}  {names}\n' in out
    assert 'exit codes:' in out
    for code in range(5):  # 4: an unexpected exception (a bug), never 1
        assert f'\n  {code}  ' in out


@pytest.mark.parametrize('main', HOOKS)
def test_an_abbreviated_option_is_refused(main, tmp_path, capsys):
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.12\n')
    with pytest.raises(SystemExit) as exited:
        main(['--offlin', str(path)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith(': error: unrecognized arguments: --offlin\n') and err.count('\n') == 1
    assert path.read_text() == 'FROM python:3.12\n'


def test_pin_from_refuses_updat(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        pin.main(['--updat', str(tmp_path / 'Dockerfile')])
    assert exited.value.code == 2
