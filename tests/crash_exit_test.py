"""An unexpected exception is exit 4 and one line, never exit 1 (issue 18, item 6).

Exit 1 means "changed": a scheduled --update job read a crash as "re-pinned".
No hostile input is known to crash pin-from any more (each such input has its
own test), so the fault is injected where any of them struck: inside the run,
after the options were read.
"""
from __future__ import annotations

import json

import pytest

from pin_from import check_deprecated_tags
from pin_from import pin
from pin_from.files import load


def _boom(*args, **kwargs):
    raise RecursionError('maximum recursion depth exceeded\n\x1b]0;owned\x07')


@pytest.mark.parametrize('main', (pin.main, check_deprecated_tags.main), ids=('pin-from', 'check-deprecated-tags'))
def test_a_crash_is_exit_4_and_one_line(main, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(load, 'load_all', _boom)
    monkeypatch.delenv('PIN_FROM_DEBUG', raising=False)
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    assert main([str(path)]) == 4
    captured = capsys.readouterr()
    assert captured.out == ''
    lines = captured.err.splitlines()
    assert len(lines) == 1 and 'internal error (a bug in pin-from ' in lines[0]
    assert lines[0].endswith(r'RecursionError: maximum recursion depth exceeded\x0a\x1b]0;owned\x07')


def test_a_crash_still_prints_the_json_document(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(load, 'load_all', _boom)
    path = tmp_path / 'Dockerfile'
    path.write_text('FROM python:3.13\n')
    assert pin.main(['--format', 'json', str(path)]) == 4
    document = json.loads(capsys.readouterr().out)
    assert document['exit_code'] == 4
    assert 'RecursionError' in document['errors'][0]['message']


def test_the_traceback_is_there_when_asked_for(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(load, 'load_all', _boom)
    monkeypatch.setenv('PIN_FROM_DEBUG', '1')
    assert pin.main([str(tmp_path / 'Dockerfile')]) == 4
    assert 'Traceback (most recent call last)' in capsys.readouterr().err
