"""A file's kind comes from its name; a file of no known kind is never read, unless a kind is forced."""
from __future__ import annotations

import pytest

from pin_from.files import load as files
from pin_from import kinds

MARKDOWN = '# Build\n\n```Dockerfile\nFROM alpine:3.20\n```\n'
SHELL = '#!/bin/sh\ncat > Dockerfile <<EOF\nFROM alpine:3.20\nEOF\n'


@pytest.mark.parametrize(('path', 'kind'), (
    ('Dockerfile', 'dockerfile'),
    ('docker/Dockerfile.prod', 'dockerfile'),
    ('Dockerfile-dev', 'dockerfile'),
    ('build.containerfile', 'dockerfile'),
    ('app.Dockerfile', 'dockerfile'),
    ('Containerfile', 'dockerfile'),
    ('dockerfile', 'dockerfile'),
    ('Dockerfile.dockerignore', None),  # BuildKit's per-Dockerfile ignore file
    ('README.md', None),
    ('gen.sh', None),
    ('devcontainer.json', None),
    ('docker-bake.hcl', 'bake'),  # issue 21's kinds
    ('.devcontainer/devcontainer.json', 'devcontainer'),
    ('main.tf', 'terraform'),
    ('docker-bake.sh', None),
    ('mydockerfile', None),
    ('dockerfiles/notes', None),
    ('Dockerfile.build', 'dockerfile'),  # a Dockerfile name wins over Quadlet's .build suffix
    ('Containerfile.container', 'dockerfile'),
    ('app.build', 'quadlet'),
    ('web.container', 'quadlet'),
))
def test_a_kind_comes_from_the_name_or_there_is_none(path, kind):
    assert kinds.kind_for(path) == kind


def test_files_of_no_known_kind_are_never_rewritten(hub, tmp_path, capsys):
    hub.push('alpine', '3.20')
    readme = tmp_path / 'README.md'
    readme.write_text(MARKDOWN)
    script = tmp_path / 'gen.sh'
    script.write_text(SHELL)
    dockerfile = tmp_path / 'Dockerfile'
    dockerfile.write_text('FROM alpine:3.20\n')
    assert hub.main('-v', readme, script, dockerfile) == 1
    assert readme.read_text() == MARKDOWN
    assert script.read_text() == SHELL
    assert dockerfile.read_text().startswith('FROM alpine:3.20@sha256:')
    out = capsys.readouterr().out
    assert f'{readme}: skipped: its name is not one of a known kind (' in out
    assert f'{script}: skipped: its name is not one of a known kind (' in out


def test_without_verbose_a_file_of_no_known_kind_is_silent_and_exit_0(tmp_path, capsys):
    from pin_from.pin import main
    readme = tmp_path / 'README.md'
    readme.write_text(MARKDOWN)
    assert main(['--offline', str(readme)]) == 0
    assert capsys.readouterr().out == ''


def test_a_missing_file_is_an_error_whatever_its_name(tmp_path, capsys):
    from pin_from.pin import main
    assert main([str(tmp_path / 'notes.txt')]) == 3
    assert capsys.readouterr().out == f'{tmp_path / "notes.txt"}: no such file\n'


def test_a_forced_kind_wins_first_match_first(tmp_path):
    overrides = {'deploy/*.yml': 'compose', '*.yml': 'kubernetes', 'ci/*.sh': 'dockerfile'}
    assert kinds.kind_for('deploy/app.yml', overrides) == 'compose'
    assert kinds.kind_for('x/deploy/app.yml', overrides) == 'compose'  # the path's tail
    assert kinds.kind_for('deploy/sub/app.yml', overrides) == 'kubernetes'  # '*' stays in a directory
    assert kinds.kind_for('ci/gen.sh', overrides) == 'dockerfile'
    assert kinds.kind_for('gen.sh', overrides) is None
    assert kinds.kind_for('x/y/z.tmpl', {'**/*.tmpl': 'dockerfile'}) == 'dockerfile'
    assert kinds.kind_for('z.tmpl', {'**/*.tmpl': 'dockerfile'}) == 'dockerfile'


def test_a_forced_kind_is_scanned_as_that_kind(tmp_path):
    path = tmp_path / 'deploy' / 'app.yml'
    path.parent.mkdir()
    path.write_text('services:\n  web:\n    image: alpine:3.20\n')
    plain = files.load_all([str(path)], verbose=False)
    forced = files.load_all([str(path)], verbose=False, overrides=kinds.check_overrides({'deploy/*.yml': 'compose'}, 'x'))
    assert [f.kind for f in plain.files] == ['kubernetes'] and not plain.files[0].scan.sites
    assert [f.kind for f in forced.files] == ['compose']
    assert [str(s.ref) for s in forced.files[0].scan.sites] == ['alpine:3.20']


def test_a_forced_kind_must_be_known():
    with pytest.raises(ValueError, match=r"pyproject.toml: '\*.sh' = 'shell': expected one of dockerfile, "):
        kinds.check_overrides({'*.sh': 'shell'}, 'pyproject.toml')


def test_the_configuration_file_forces_a_kind_for_both_hooks(tmp_path, capsys, monkeypatch):
    from pin_from import check_deprecated_tags
    from tests.data import DOCS, OFFICIAL_IMAGES
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'ci').mkdir()
    (tmp_path / 'ci' / 'base.tmpl').write_text('FROM python:2.7\n')
    (tmp_path / 'other.tmpl').write_text('FROM python:2.7\n')
    (tmp_path / '.pin-from.toml').write_text('[kinds]\n"ci/*.tmpl" = "dockerfile"\n')
    library = ['--library-url', str(OFFICIAL_IMAGES / 'current' / 'library'), '--docs-url', str(DOCS)]
    assert check_deprecated_tags.main([*library, 'ci/base.tmpl', 'other.tmpl']) == 1
    out = capsys.readouterr().out
    assert 'ci/base.tmpl:1: python:2.7 is no longer supported' in out
    assert 'other.tmpl' not in out


def test_the_configuration_file_names_a_known_kind(tmp_path, capsys, monkeypatch):
    from pin_from.pin import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / '.pin-from.toml').write_text('[kinds]\n"*.sh" = "shell"\n')
    assert main(['--check', 'x.sh']) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / '.pin-from.toml'}: kinds: '*.sh' = 'shell': expected one of dockerfile, " in err


def test_a_charts_templates_are_never_read_even_without_template_syntax(tmp_path, capsys):
    chart = tmp_path / 'chart'
    (chart / 'templates' / 'jobs').mkdir(parents=True)
    (chart / 'Chart.yaml').write_text('apiVersion: v2\nname: app\nversion: 1.0.0\n')
    plain = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n'
    for path in (chart / 'templates' / 'pod.yaml', chart / 'templates' / 'jobs' / 'pod.yaml'):
        path.write_text(plain)
        assert kinds.kind_for(str(path)) is None
    assert kinds.kind_for(str(chart / 'values.yaml')) == 'helm'
    (tmp_path / 'templates').mkdir()  # a folder named templates outside any chart is Kubernetes as before
    assert kinds.kind_for(str(tmp_path / 'templates' / 'pod.yaml')) == 'kubernetes'
    from pin_from import pin
    assert pin.main(['-v', '--offline', '--cache-dir', str(tmp_path / 'cache'), str(chart / 'templates' / 'pod.yaml')]) == 0
    assert (chart / 'templates' / 'pod.yaml').read_text() == plain
    assert 'not read' in capsys.readouterr().out


GITLAB_CI = '''include:
  - local: '/ci/build.yml'
  - local: ci/jobs/*.yaml
  - project: 'group/other'
    file: '/templates/remote.yml'
  - local: "deploy.yml"  # a comment
build:
  script: [make]
'''


def test_files_a_gitlab_ci_includes_locally_are_gitlab_ci(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kinds._gitlab_includes.cache_clear()
    (tmp_path / '.gitlab-ci.yml').write_text(GITLAB_CI)
    assert kinds.kind_for('ci/build.yml') == 'gitlab-ci'
    assert kinds.kind_for(str(tmp_path / 'ci' / 'build.yml')) == 'gitlab-ci'
    assert kinds.kind_for('ci/jobs/test.yaml') == 'gitlab-ci'
    assert kinds.kind_for('deploy.yml') == 'gitlab-ci'
    assert kinds.kind_for('templates/remote.yml') == 'kubernetes'  # another project's file
    assert kinds.kind_for('ci/jobs/deep/test.yaml') == 'kubernetes'  # * stays within a folder
    assert kinds.kind_for('other/ci/build.yml') == 'kubernetes'  # local paths start at the root
    kinds._gitlab_includes.cache_clear()


def test_a_gitlab_ci_that_is_no_regular_file_is_not_read(tmp_path, monkeypatch):
    import os
    monkeypatch.chdir(tmp_path)
    kinds._gitlab_includes.cache_clear()
    os.mkfifo(tmp_path / '.gitlab-ci.yml')  # would block a plain open()
    assert kinds.kind_for('ci/build.yml') == 'kubernetes'
    kinds._gitlab_includes.cache_clear()


def test_an_included_gitlab_file_is_pinned_as_gitlab_ci(hub, tmp_path, monkeypatch):
    hub.push('python', '3.12-slim')
    monkeypatch.chdir(tmp_path)
    kinds._gitlab_includes.cache_clear()
    (tmp_path / '.gitlab-ci.yml').write_text(GITLAB_CI)
    (tmp_path / 'ci').mkdir()
    job = 'test:\n  image: python:3.12-slim\n  script: [pytest]\n'
    (tmp_path / 'ci' / 'build.yml').write_text(job)
    assert hub.main('ci/build.yml') == 1
    assert (tmp_path / 'ci' / 'build.yml').read_text().startswith('test:\n  image: python:3.12-slim@sha256:')
    kinds._gitlab_includes.cache_clear()
