"""The steady state (pin_from/steady.py): files a run like this one left clean are known clean,
before anything else is imported; anything that could change the answer is another fingerprint."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pin_from import pin
from pin_from import reference
from pin_from import steady
from pin_from.registry.cache import Cache
from pin_from.registry.resolve import tag_key
from pin_from.steps import pinning

D = 'sha256:' + 'c' * 64
PINNED = f'FROM python:3.12@{D}\nRUN true\n'
UNPINNED = 'FROM python:3.12\nRUN true\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory with two pinned Dockerfiles, an answer for python:3.12 in the cache."""
    root = tmp_path / 'project'
    (root / 'svc').mkdir(parents=True)
    (root / 'Dockerfile').write_text(PINNED)
    (root / 'svc' / 'Dockerfile').write_text(PINNED.replace('RUN true', 'RUN false'))
    monkeypatch.chdir(root)
    Cache(os.environ['PIN_FROM_CACHE_DIR']).store_tags({tag_key(reference.parse('python:3.12')): D})
    return root


class FullPath(AssertionError):
    pass


def _no_full_path(known):
    raise FullPath(f'the full path ran for {known.rest()}')


def _full_path_forbidden(monkeypatch):
    monkeypatch.setattr(pinning, 'main', _no_full_path)


def test_a_second_run_of_clean_files_never_reaches_the_full_path(project, monkeypatch):
    assert pin.main(['Dockerfile', 'svc/Dockerfile']) == 0
    records = os.listdir(os.path.join(os.environ['PIN_FROM_CACHE_DIR'], 'steady'))
    assert len(records) == 1
    _full_path_forbidden(monkeypatch)
    assert pin.main(['Dockerfile', 'svc/Dockerfile']) == 0
    assert pin.main(['svc/Dockerfile']) == 0  # any subset
    with pytest.raises(FullPath):
        pin.main(['Dockerfile', 'svc/Dockerfile', '-v'])  # -v says what it skipped: never from the record


def test_a_steady_run_imports_nothing_but_the_steady_module(project):
    code = ('import sys\nfrom pin_from.pin import main\nrc = main(sys.argv[1:])\n'
            'print(rc, sorted(m for m in sys.modules if m.startswith("pin_from")), "argparse" in sys.modules,'
            ' "typing" in sys.modules)')
    args = [sys.executable, '-c', code, 'Dockerfile', 'svc/Dockerfile']
    first = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert first.startswith('0 ') and 'pin_from.steps.pinning' in first
    second = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert second.split('\n')[0] == "0 ['pin_from', 'pin_from.pin', 'pin_from.steady'] False False"


def test_a_changed_file_is_looked_at_and_only_it(project, capsys):
    assert pin.main(['--offline', 'Dockerfile', 'svc/Dockerfile']) == 0
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert pin.main(['--offline', 'Dockerfile', 'svc/Dockerfile']) == 1
    assert (project / "svc" / "Dockerfile").read_text() == PINNED
    out = capsys.readouterr().out
    assert out == f'svc/Dockerfile:1: pinned python:3.12 -> python:3.12@{D}\n'


def test_the_full_path_gets_only_the_files_not_known_clean(project, monkeypatch):
    assert pin.main(['--check', 'Dockerfile', 'svc/Dockerfile']) == 0
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    seen = []
    real = pinning.main

    def spy(known):
        seen.append((known.rest(), sorted(known.preread)))
        return real(known)
    monkeypatch.setattr(pinning, 'main', spy)
    assert pin.main(['--check', 'Dockerfile', 'svc/Dockerfile']) == 1
    assert seen == [(['--check', 'svc/Dockerfile'], ['svc/Dockerfile'])]  # its bytes handed over, read once


def test_a_run_that_found_something_records_only_the_silent_files(project, monkeypatch, capsys):
    (project / 'svc' / 'Dockerfile').write_text('FROM scratch\nFROM python:3.13\n')  # no answer in the cache
    assert pin.main(['--offline', 'Dockerfile', 'svc/Dockerfile']) == 3
    assert 'not in the cache' in capsys.readouterr().out
    _full_path_forbidden(monkeypatch)
    assert pin.main(['--offline', 'Dockerfile']) == 0
    with pytest.raises(FullPath):
        pin.main(['--offline', 'svc/Dockerfile'])


@pytest.mark.parametrize('options', (['-v'], ['--update', '--offline'], ['--verify', '--offline'],
                                     ['--format', 'json']))
def test_runs_that_say_more_than_plain_ones_write_no_record(project, options, capsys):
    pin.main([*options, 'Dockerfile'])
    assert not os.path.exists(os.path.join(os.environ['PIN_FROM_CACHE_DIR'], 'steady'))


def test_a_configuration_change_is_another_fingerprint(project, capsys):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED.replace('3.12', '3.13'))  # no answer: --offline fails
    (project / '.pin-from.toml').write_text('kinds = ["compose"]\n')
    assert pin.main(['--offline', 'svc/Dockerfile']) == 0  # not a kind it looks at: silent
    assert pin.main(['--offline', 'svc/Dockerfile']) == 0
    (project / '.pin-from.toml').write_text('kinds = ["dockerfile"]\n')
    assert pin.main(['--offline', 'svc/Dockerfile']) == 3
    assert 'not in the cache and --offline was given' in capsys.readouterr().out


def test_a_configuration_file_above_the_working_directory_counts(project, monkeypatch, capsys):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED.replace('3.12', '3.13'))
    (project / 'pyproject.toml').write_text('[tool.pin-from]\nkinds = ["compose"]\n')
    monkeypatch.chdir(project / 'svc')
    assert pin.main(['--offline', 'Dockerfile']) == 0
    (project / 'pyproject.toml').write_text('[tool.pin-from]\nkinds = ["dockerfile", "compose"]\n')
    assert pin.main(['--offline', 'Dockerfile']) == 3


def test_a_named_configuration_file_counts(project, capsys):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED.replace('3.12', '3.13'))
    (project / 'pin.toml').write_text('kinds = ["compose"]\n')
    assert pin.main(['--config', 'pin.toml', '--offline', 'svc/Dockerfile']) == 0
    assert pin.main(['--config=pin.toml', '--offline', 'svc/Dockerfile']) == 0
    (project / 'pin.toml').write_text('kinds = ["dockerfile"]\n')
    assert pin.main(['--config', 'pin.toml', '--offline', 'svc/Dockerfile']) == 3
    assert pin.main(['--config=pin.toml', '--offline', 'svc/Dockerfile']) == 3


def test_the_environment_options_and_directory_are_in_the_fingerprint(project, monkeypatch):
    base = steady.fingerprint(['--offline'])
    assert steady.fingerprint(['--offline']) == base
    assert steady.fingerprint(['--offline', '--check']) != base
    monkeypatch.setenv('PIN_FROM_MIN_AGE', '1d')
    assert steady.fingerprint(['--offline']) != base
    monkeypatch.delenv('PIN_FROM_MIN_AGE')
    monkeypatch.chdir(project / 'svc')
    assert steady.fingerprint(['--offline']) != base


def test_every_source_file_of_pin_from_is_in_the_fingerprint():
    package = os.path.dirname(os.path.abspath(pin.__file__))
    expected = {os.path.join(d, f) for d, _, fs in os.walk(package) if '__pycache__' not in d
                for f in fs if f.endswith('.py')}
    listed = {line.rsplit(' ', 2)[0] for line in steady._code() if line.endswith(tuple('0123456789'))
              and line.startswith(package + os.sep)}
    assert listed == expected and len(expected) > 50


def test_a_symlinked_directory_is_the_full_paths_to_refuse(project, tmp_path, capsys):
    assert pin.main(['svc/Dockerfile']) == 0
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'Dockerfile').write_bytes((project / 'svc' / 'Dockerfile').read_bytes())  # the same bytes
    (project / 'svc' / 'Dockerfile').unlink()
    (project / 'svc').rmdir()
    (project / 'svc').symlink_to(outside)
    from pin_from.files import load
    load._is_real.cache_clear()  # a process of its own would start with none
    assert steady.check(['svc/Dockerfile']).unknown == ['svc/Dockerfile']
    assert pin.main(['svc/Dockerfile']) == 3
    assert 'is a symlink to a file outside' in capsys.readouterr().out


def test_a_symlinked_file_is_never_known_clean(project):
    (project / 'link').symlink_to('Dockerfile')
    assert pin.main(['link']) == 0
    known = steady.check(['link'])
    assert known.fingerprint is not None and known.unknown == ['link'] and not known.preread


@pytest.mark.parametrize('record', (
    b'',
    b'pin-from steady 1 0000\nabc\n',  # another fingerprint's header
    b'\xff\xfe garbage',
    b'pin-from steady 1 {fp}\n\xff\n',  # not ASCII
))
def test_a_record_that_is_not_one_is_no_record(project, record, monkeypatch):
    assert pin.main(['Dockerfile']) == 0
    directory = os.path.join(os.environ['PIN_FROM_CACHE_DIR'], 'steady')
    (name,) = os.listdir(directory)
    with open(os.path.join(directory, name), 'wb') as f:
        f.write(record.replace(b'{fp}', name.encode()))
    assert steady.check(['Dockerfile']).unknown == ['Dockerfile']
    assert pin.main(['Dockerfile']) == 0  # the full path again, and a good record after it
    assert steady.check(['Dockerfile']).all_clean


def test_an_unwritable_cache_is_no_failure(project, tmp_path, capsys):
    blocked = tmp_path / 'file'
    blocked.write_text('')
    assert pin.main(['--cache-dir', str(blocked / 'c'), 'Dockerfile']) == 0


@pytest.mark.parametrize(('argv', 'expected'), (
    (['a', 'b'], ([], ['a', 'b'])),
    (['--check', '--cache-dir', 'c', 'a'], (['--check', '--cache-dir', 'c'], ['a'])),
    (['--cache-dir=c', '--offline', 'a'], (['--cache-dir=c', '--offline'], ['a'])),
    (['--kinds', 'dockerfile'], (['--kinds', 'dockerfile'], [])),
    (['--cache-dir'], None),  # no value
    (['-v', 'a'], None),
    (['--update', 'a'], None),
    (['--', 'a'], None),
    (['a', '--check'], None),  # an option after a file
    (['--chek', 'a'], None),  # a typo is argparse's to say
    (['--help'], None),
))
def test_split(argv, expected):
    assert steady.split(argv) == expected


def test_the_options_it_reads_are_the_parsers():
    parser = pin.build_parser()
    takes_value = {s for a in parser._actions if a.option_strings and a.nargs != 0 for s in a.option_strings}
    flags = {s for a in parser._actions if a.option_strings and a.nargs == 0 for s in a.option_strings}
    assert steady.TAKES_VALUE == takes_value
    assert steady.FLAGS <= flags


def test_old_records_are_pruned(project, monkeypatch):
    directory = os.path.join(os.environ['PIN_FROM_CACHE_DIR'], 'steady')
    os.makedirs(directory)
    old = os.path.join(directory, 'a' * 64)
    recent = os.path.join(directory, 'b' * 64)
    for path in (old, recent):
        with open(path, 'w') as f:
            f.write('x')
    os.utime(old, (0, 0))
    assert pin.main(['Dockerfile']) == 0
    assert os.path.exists(recent) and not os.path.exists(old)
    assert len(os.listdir(directory)) == 2


# --check, said again: what a --check said of a file to pin holds while its answers are fresh and unchanged

def _check(*paths):
    return pin.main(['--offline', '--check', *paths])


def test_a_check_says_again_what_it_said_without_the_full_path(project, monkeypatch, capsys):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert _check('Dockerfile', 'svc/Dockerfile') == 1
    first = capsys.readouterr()
    assert first.out == f'svc/Dockerfile:1: would pin python:3.12 -> python:3.12@{D}\n' and first.err == ''
    _full_path_forbidden(monkeypatch)
    assert _check('Dockerfile', 'svc/Dockerfile') == 1
    assert capsys.readouterr() == first
    assert (project / 'svc' / 'Dockerfile').read_text() == UNPINNED


def test_a_new_answer_in_the_cache_ends_what_was_said(project, monkeypatch, capsys):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert _check('svc/Dockerfile') == 1
    new = 'sha256:' + 'd' * 64
    Cache(os.environ['PIN_FROM_CACHE_DIR']).store_tags({tag_key(reference.parse('python:3.12')): new})
    assert _check('svc/Dockerfile') == 1
    assert capsys.readouterr().out.splitlines()[-1] == f'svc/Dockerfile:1: would pin python:3.12 -> python:3.12@{new}'


def test_what_was_said_ends_when_an_answer_it_used_is_no_longer_fresh(project, monkeypatch):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert pin.main(['--check', '--cache-ttl', '600', 'svc/Dockerfile']) == 1  # a fresh answer: no request
    assert steady.check(['--check', '--cache-ttl', '600', 'svc/Dockerfile']).all_clean
    import time
    monkeypatch.setattr(steady, '_now', lambda: time.time() + 601)
    known = steady.check(['--check', '--cache-ttl', '600', 'svc/Dockerfile'])
    assert known.unknown == ['svc/Dockerfile'] and known.preread  # the full path's, which asks again


@pytest.mark.parametrize('options', (['--refresh'], ['--cache-ttl', '0'], ['--pin-platform', 'linux/amd64']))
def test_a_check_that_asks_the_registry_is_never_said_again(project, options):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    pin.main(['--offline', '--check', *options, 'Dockerfile', 'svc/Dockerfile'])  # (offline: no network here)
    known = steady.check(['--offline', '--check', *options, 'Dockerfile', 'svc/Dockerfile'])
    assert known.clean == ['Dockerfile'] and known.unknown == ['svc/Dockerfile'] and not known.said


def test_a_writing_run_says_nothing_again(project):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert pin.main(['--offline', 'svc/Dockerfile']) == 1  # pinned it
    assert (project / 'svc' / 'Dockerfile').read_text() == PINNED
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert not steady.check(['--offline', 'svc/Dockerfile']).all_clean


def test_one_file_not_known_sends_every_file_not_clean_to_the_full_path(project, monkeypatch, capsys):
    (project / 'Dockerfile').write_text(UNPINNED)
    assert _check('Dockerfile', 'svc/Dockerfile') == 1
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED.replace('RUN true', 'RUN echo'))
    capsys.readouterr()
    assert _check('Dockerfile', 'svc/Dockerfile') == 1
    assert capsys.readouterr().out == (f'Dockerfile:1: would pin python:3.12 -> python:3.12@{D}\n'
                                       f'svc/Dockerfile:1: would pin python:3.12 -> python:3.12@{D}\n')


def test_a_line_that_is_not_printable_ascii_is_never_said_again(project, capsys):
    (project / 'ünï').mkdir()
    (project / 'ünï' / 'Dockerfile').write_text(UNPINNED)
    assert _check('ünï/Dockerfile') == 1
    assert not steady.check(['--offline', '--check', 'ünï/Dockerfile']).said
    assert steady.Said('p', b'', 1, 1e12, 'v', ['p:1: \x1b]0;owned\x07']).entry() is None


def test_a_poisoned_entry_never_reaches_the_terminal(project, capsys):
    (project / 'svc' / 'Dockerfile').write_text(UNPINNED)
    assert _check('svc/Dockerfile') == 1
    directory = os.path.join(os.environ['PIN_FROM_CACHE_DIR'], 'steady')
    (name,) = os.listdir(directory)
    path = os.path.join(directory, name)
    with open(path) as f:
        text = f.read()
    assert text.count('\t') >= 4
    with open(path, 'w') as f:
        f.write(text.replace('would pin', 'would pin \x1b]0;owned\x07'))
    capsys.readouterr()
    assert _check('svc/Dockerfile') == 1
    assert '\x1b' not in capsys.readouterr().out


def test_a_record_past_its_size_starts_again_from_the_run(project, monkeypatch):
    """Old contents pile up in a record (each edit adds a key); past MAX_KEYS it keeps only the run's."""
    monkeypatch.setattr(steady, 'MAX_KEYS', 3)
    for i in range(3):
        (project / 'Dockerfile').write_text(PINNED + f'# {i}\n')
        assert pin.main(['Dockerfile']) == 0
    directory = os.path.join(os.environ['PIN_FROM_CACHE_DIR'], 'steady')
    (name,) = os.listdir(directory)
    with open(os.path.join(directory, name)) as f:
        assert len(f.read().splitlines()) == 1 + 3
    (project / 'Dockerfile').write_text(PINNED + '# 3\n')
    assert pin.main(['Dockerfile']) == 0
    with open(os.path.join(directory, name)) as f:
        keys = f.read().splitlines()[1:]
    assert keys == [steady.key('Dockerfile', (project / 'Dockerfile').read_bytes())]
