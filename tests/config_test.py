"""One configuration file: [tool.pin-from] in pyproject.toml or a .pin-from.toml, feeding the typed options."""
from __future__ import annotations

import json

import pytest

from pin_from import check_deprecated_tags
from pin_from import options
from pin_from import pin
from pin_from.errors import UsageError
from tests.data import DOCS, OFFICIAL_IMAGES

LIBRARY = OFFICIAL_IMAGES / 'current' / 'library'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in options.ENV.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def build(argv, hook=options.PIN):
    parser = pin.build_parser() if hook == options.PIN else check_deprecated_tags.build_parser()
    return options.build(parser, options.parse(parser, argv), hook)


PYPROJECT = '''\
[project]
name = "app"

[tool.pin-from]
registry-mirror = ["docker.io=https://mirror.example"]
insecure-registry = ["registry.internal:5000"]
library-url = "vendor/library"
cache-ttl = 60
jobs = 4
platform = ["linux/arm64", "linux/amd64"]
min-age = "1d"
docs-url = "https://docs.example/"

[tool.pin-from.kinds]
"deploy/*.yml" = "compose"

[[tool.pin-from.signatures]]
image = "ghcr.io/org/*"
identity = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main"
'''


def test_pyproject_gives_every_long_option(tmp_path):
    (tmp_path / 'pyproject.toml').write_text(PYPROJECT)
    import shutil
    shutil.copytree(LIBRARY, tmp_path / 'vendor' / 'library')
    opts = build(['--update', 'Dockerfile'])
    assert opts.config == str(tmp_path / 'pyproject.toml')
    assert opts.mirrors == {'docker.io': 'https://mirror.example'}
    assert opts.insecure == frozenset({'registry.internal:5000'})
    assert opts.library_url == str(tmp_path / 'vendor' / 'library')  # relative to the file
    assert (opts.cache_ttl, opts.jobs, opts.min_age) == (60.0, 4, 86400)
    assert [str(p) for p in opts.platform] == ['linux/arm64', 'linux/amd64']
    assert opts.kinds is None  # the table maps globs; it is not the --kinds filter
    assert opts.kind_globs == {'deploy/*.yml': 'compose'}
    assert opts.signatures == ({'image': 'ghcr.io/org/*',
                                'identity': 'https://github.com/org/app/.github/workflows/release.yml@refs/heads/main'},)
    assert opts.filenames == ('Dockerfile',)


def test_a_file_without_update_does_not_make_its_update_options_errors(tmp_path):
    (tmp_path / 'pyproject.toml').write_text(PYPROJECT)
    opts = build(['Dockerfile'])  # platform, min-age, library-url come from the file: no "needs --update"
    assert opts.min_age is None and not opts.update


def test_found_upwards_and_dot_file_first(tmp_path):
    (tmp_path / 'pyproject.toml').write_text('[tool.pin-from]\njobs = 3\n')
    (tmp_path / '.pin-from.toml').write_text('jobs = 5\n')
    (tmp_path / 'a' / 'b').mkdir(parents=True)
    import os
    os.chdir(tmp_path / 'a' / 'b')
    assert build([]).jobs == 5
    (tmp_path / '.pin-from.toml').unlink()
    assert build([]).jobs == 3


def test_a_pyproject_without_our_table_is_passed_over(tmp_path):
    (tmp_path / '.pin-from.toml').write_text('jobs = 7\n')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'pyproject.toml').write_text('[tool.black]\nline-length = 100\n')
    import os
    os.chdir(tmp_path / 'sub')
    opts = build([])
    assert opts.jobs == 7 and opts.config == str(tmp_path / '.pin-from.toml')


def test_config_names_the_file(tmp_path):
    (tmp_path / 'elsewhere.toml').write_text('jobs = 9\n')
    (tmp_path / '.pin-from.toml').write_text('jobs = 5\n')
    assert build(['--config', str(tmp_path / 'elsewhere.toml')]).jobs == 9


def test_precedence_command_line_then_environment_then_file(tmp_path, monkeypatch):
    (tmp_path / '.pin-from.toml').write_text('cache-dir = "from-file"\nregistry-mirror = ["docker.io=https://file.example"]\n')
    assert build([]).cache_dir == str(tmp_path / 'from-file')  # relative to the file
    monkeypatch.setenv('PIN_FROM_CACHE_DIR', '/from-env')
    assert build([]).cache_dir == '/from-env'
    assert build(['--cache-dir', '/from-cli']).cache_dir == '/from-cli'
    # a repeatable option: the file's list only when neither the command line nor the environment gives one
    assert build([]).mirrors == {'docker.io': 'https://file.example'}
    assert build(['--registry-mirror', 'docker.io=https://cli.example']).mirrors == {'docker.io': 'https://cli.example'}
    monkeypatch.setenv('PIN_FROM_REGISTRY_MIRRORS', 'docker.io=https://env.example')
    assert build([]).mirrors == {'docker.io': 'https://env.example'}


def test_the_kinds_filter_as_a_list(tmp_path):
    (tmp_path / '.pin-from.toml').write_text('kinds = ["dockerfile", "compose"]\n')
    opts = build([])
    assert opts.kinds == frozenset({'dockerfile', 'compose'}) and opts.kind_globs == {}


def test_a_flag_takes_true_or_false(tmp_path):
    (tmp_path / '.pin-from.toml').write_text('verbose = true\noffline = false\n')
    opts = build([])
    assert opts.verbose and not opts.offline
    (tmp_path / '.pin-from.toml').write_text('verbose = "yes"\n')
    with pytest.raises(UsageError, match=r"\.pin-from\.toml: verbose: expected true or false"):
        build([])


@pytest.mark.parametrize(('text', 'message'), (
    ('colour = "red"\n', "unknown key 'colour'"),
    ('[tool]\n', "unknown key 'tool'"),
    ('jobs = 0\n', "jobs: '0': expected 1 to 256"),
    ('registry-mirror = "docker.io=https://m.example"\n', 'registry-mirror: expected a list'),
    ('platform = ["linux"]\n', 'platform: '),
    ('format = "xml"\n', "format: 'xml' is not one of"),
    ('cache-ttl = true\n', 'cache-ttl: expected a string or a number'),
    ('jobs = \n', 'not valid TOML'),
))
def test_a_bad_key_or_value_names_the_file_and_the_key(tmp_path, text, message):
    (tmp_path / '.pin-from.toml').write_text(text)
    with pytest.raises(UsageError) as e:
        build([])
    assert str(e.value).startswith(f'{tmp_path / ".pin-from.toml"}: ') and message in str(e.value)


def test_a_key_of_the_other_hook_is_left_to_it(tmp_path):
    (tmp_path / '.pin-from.toml').write_text('docs-url = "https://docs.example/"\ncache-ttl = 5\n')
    assert build([]).cache_ttl == 5
    assert build([], options.CHECK).docs_url == 'https://docs.example/'


def test_the_keys_are_the_long_options_of_both_hooks():
    longs = {
        s[2:] for parser in (pin.build_parser(), check_deprecated_tags.build_parser())
        for a in parser._actions for s in a.option_strings if s.startswith('--')
    }
    assert options.KEYS == (longs - options.NOT_IN_FILES) | {'signatures'}


def test_a_hook_run_reads_its_configuration(tmp_path, capsys):
    (tmp_path / 'pyproject.toml').write_text(
        f'[tool.pin-from]\nlibrary-url = {json.dumps(str(LIBRARY))}\ndocs-url = {json.dumps(str(DOCS))}\n'
        'format = "json"\n')
    (tmp_path / 'Dockerfile').write_text('FROM python:2.7\n')
    assert check_deprecated_tags.main(['Dockerfile']) == 1
    result = json.loads(capsys.readouterr().out)['results'][0]
    assert result['status'] == 'unsupported' and result['image'] == 'python:2.7'


def test_an_unknown_key_is_a_usage_error_of_the_hook(tmp_path, capsys):
    (tmp_path / '.pin-from.toml').write_text('registry_mirror = ["docker.io=https://m.example"]\n')
    (tmp_path / 'Dockerfile').write_text('FROM python:3.13\n')
    assert pin.main(['--check', 'Dockerfile']) == 2
    err = capsys.readouterr().err
    assert f"pin-from: error: {tmp_path / '.pin-from.toml'}: unknown key 'registry_mirror'" in err
    assert (tmp_path / 'Dockerfile').read_text() == 'FROM python:3.13\n'


def test_the_readme_example_is_a_valid_configuration(tmp_path):
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / 'README.md').read_text(encoding='utf-8')
    section = readme.split('### Configuration', 1)[1]
    example = section.split('```toml\n', 1)[1].split('```', 1)[0]
    (tmp_path / 'pyproject.toml').write_text(example)
    import shutil
    shutil.copytree(LIBRARY, tmp_path / 'vendor' / 'official-images' / 'library')
    opts = build(['--update'])
    assert opts.mirrors == {'docker.io': 'https://harbor.example.com/dockerhub-proxy'}
    assert [str(p) for p in opts.platform] == ['linux/amd64', 'linux/arm64'] and opts.min_age == 2 * 86400
    assert opts.cache_ttl == 3600 and opts.kind_globs == {'deploy/*.yml': 'compose'}
