"""pre-commit end to end: the hooks as users install them, on a real commit."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry_server import push_image

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = str(Path(sys.executable).parent / 'pre-commit')
GIT_ENV = {
    'GIT_AUTHOR_NAME': 'Test', 'GIT_AUTHOR_EMAIL': 't@example.com',
    'GIT_COMMITTER_NAME': 'Test', 'GIT_COMMITTER_EMAIL': 't@example.com',
    'GIT_CONFIG_NOSYSTEM': '1',
}


def git(*args, cwd, env=None):
    return subprocess.run(
        ('git', *args), cwd=cwd, env=env, check=True, capture_output=True, text=True,
    ).stdout


def hooked_project(work, hook_repo, pre_commit_home, hooks='    -   id: pin-from\n', install=True):
    """``work``, its files written, as a git repository whose ``.pre-commit-config.yaml`` uses
    ``hooks`` of this checkout, with pre-commit installed (``install``) and every file staged;
    the environment to run git and pre-commit in."""
    repo_path, rev = hook_repo
    env = {**os.environ, **GIT_ENV, 'PRE_COMMIT_HOME': str(pre_commit_home)}
    (work / '.pre-commit-config.yaml').write_text(
        f'repos:\n-   repo: {repo_path}\n    rev: {rev}\n    hooks:\n{hooks}',
    )
    git('init', '-q', cwd=work, env=env)
    if install:
        subprocess.run((PRE_COMMIT, 'install'), cwd=work, env=env, check=True, capture_output=True)
    git('add', '-A', cwd=work, env=env)
    return env


def commit(work, env):
    """``git commit``, its hooks run by pre-commit; the completed process."""
    return subprocess.run(('git', 'commit', '-m', 'add'), cwd=work, env=env, capture_output=True, text=True)


@pytest.fixture(scope='session')
def hook_repo(tmp_path_factory):
    """This checkout, uncommitted changes included, as a repo pre-commit can clone."""
    dest = tmp_path_factory.mktemp('hook-repo')
    env = {**os.environ, **GIT_ENV}
    files = git('ls-files', '-z', '--cached', '--others', '--exclude-standard', cwd=ROOT).split('\0')
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    git('init', '-q', cwd=dest, env=env)
    git('add', '-A', cwd=dest, env=env)
    git('commit', '-qm', 'snapshot', cwd=dest, env=env)
    return dest, git('rev-parse', 'HEAD', cwd=dest, env=env).strip()


@pytest.fixture(scope='session')
def pre_commit_home(tmp_path_factory):
    return tmp_path_factory.mktemp('pre-commit-home')


def test_commit_is_stopped_then_passes_with_the_pinned_file(
        hook_repo, pre_commit_home, registry, unique_repo, tmp_path,
):
    digest = push_image(registry.url, unique_repo, '1.0')
    work = tmp_path / 'project'
    work.mkdir()
    dockerfile = work / 'Dockerfile'
    dockerfile.write_text(f'FROM {registry.host}/{unique_repo}:1.0\n')
    (work / 'README').write_text('not a Dockerfile: FROM python:3\n')
    env = hooked_project(work, hook_repo, pre_commit_home)

    first = commit(work, env)
    assert first.returncode != 0, first.stdout + first.stderr
    assert 'pinned' in first.stdout + first.stderr
    assert dockerfile.read_text() == f'FROM {registry.host}/{unique_repo}:1.0@{digest}\n'
    assert (work / 'README').read_text() == 'not a Dockerfile: FROM python:3\n'

    git('add', '-A', cwd=work, env=env)
    second = commit(work, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert git('show', 'HEAD:Dockerfile', cwd=work, env=env) == dockerfile.read_text()

    run_all = subprocess.run(
        (PRE_COMMIT, 'run', '--all-files'), cwd=work, env=env, capture_output=True, text=True,
    )
    assert run_all.returncode == 0, run_all.stdout + run_all.stderr
    assert 'pin base images to digests' in run_all.stdout


def test_scheduled_update_hook_repins_and_writes_the_report(
        hook_repo, pre_commit_home, registry, unique_repo, tmp_path,
):
    """The manual-stage hook, run by hand (CI runs pin-from directly: tests/ci_recipe_test.py)."""
    command = 'pre-commit run pin-from-update --all-files --hook-stage manual'
    repo_path, rev = hook_repo
    old = push_image(registry.url, unique_repo, '1.0', env={'APP_VERSION': '1.0.0'}, seed='old')
    work = tmp_path / 'project'
    work.mkdir()
    env = {**os.environ, **GIT_ENV, 'PRE_COMMIT_HOME': str(pre_commit_home)}
    (work / '.pre-commit-config.yaml').write_text(
        f'repos:\n-   repo: {repo_path}\n    rev: {rev}\n    hooks:\n    -   id: pin-from\n'
        f'    -   id: pin-from-update\n        args: [--report, pin-from-report.md]\n',
    )
    dockerfile = work / 'Dockerfile'
    dockerfile.write_text(f'FROM {registry.host}/{unique_repo}:1.0@{old}\n')
    git('init', '-q', cwd=work, env=env)
    git('add', '-A', cwd=work, env=env)
    new = push_image(registry.url, unique_repo, '1.0', env={'APP_VERSION': '1.0.1'}, seed='new')

    # the commit-time hooks do not re-pin (that is the scheduled job's work)
    ordinary = subprocess.run((PRE_COMMIT, 'run', '--all-files'), cwd=work, env=env, capture_output=True, text=True)
    assert ordinary.returncode == 0, ordinary.stdout + ordinary.stderr
    assert dockerfile.read_text() == f'FROM {registry.host}/{unique_repo}:1.0@{old}\n'

    scheduled = subprocess.run((PRE_COMMIT, *command.split()[1:]), cwd=work, env=env, capture_output=True, text=True)
    assert scheduled.returncode == 1, scheduled.stdout + scheduled.stderr
    assert dockerfile.read_text() == f'FROM {registry.host}/{unique_repo}:1.0@{new}\n'
    report = (work / 'pin-from-report.md').read_text()
    assert old in report and new in report and '`APP_VERSION` `1.0.0` → `1.0.1`' in report


def test_the_files_pattern_is_the_kinds_pattern_and_matches_what_they_recognise():
    import re

    import yaml

    from pin_from import kinds
    hooks = {h['id']: h for h in yaml.safe_load((ROOT / '.pre-commit-hooks.yaml').read_text())}
    for hook in ('pin-from', 'check-deprecated-tags'):
        assert hooks[hook]['files'] == kinds.FILES_PATTERN, hook
    pattern = re.compile(kinds.FILES_PATTERN)
    names = (
        'Dockerfile', 'Dockerfile-dev', 'docker/Dockerfile.prod', 'build.containerfile', 'app.Dockerfile',
        'Containerfile', 'compose.yaml', 'k8s/deploy.yml', '.github/workflows/ci.yml', 'action.yaml',
        '.gitlab-ci.yml', 'base/Kustomization', 'README.md', 'gen.sh', 'mydockerfile', 'dockerfiles/notes', 'Makefile',
    )
    for name in names:
        assert bool(pattern.search(name)) == (kinds.kind_for(name) is not None), name


def test_dockerfiles_pre_commit_does_not_type_as_such_reach_the_hook(
        hook_repo, pre_commit_home, registry, unique_repo, tmp_path,
):
    digest = push_image(registry.url, unique_repo, '1.0')
    work = tmp_path / 'project'
    (work / 'docker').mkdir(parents=True)
    line = f'FROM {registry.host}/{unique_repo}:1.0\n'
    names = ('Dockerfile-dev', 'docker/Dockerfile.prod', 'build.containerfile')
    for name in names:
        (work / name).write_text(line)
    (work / 'notes.md').write_text(line)
    env = hooked_project(work, hook_repo, pre_commit_home)

    first = commit(work, env)
    assert first.returncode != 0, first.stdout + first.stderr
    for name in names:
        assert (work / name).read_text() == f'FROM {registry.host}/{unique_repo}:1.0@{digest}\n', name
    assert (work / 'notes.md').read_text() == line


def test_the_manual_hook_takes_the_whole_repository_in_one_run(
        hook_repo, pre_commit_home, registry, unique_repo, tmp_path,
):
    """pre-commit splits a long file list into several runs, each overwriting the report: the
    hook names no files, pin-from takes the repository (here: given one file, both move)."""
    repo_path, rev = hook_repo
    old = push_image(registry.url, unique_repo, '1.0', seed='old')
    work = tmp_path / 'project'
    (work / 'deploy').mkdir(parents=True)
    env = {**os.environ, **GIT_ENV, 'PRE_COMMIT_HOME': str(pre_commit_home)}
    (work / '.pre-commit-config.yaml').write_text(
        f'repos:\n-   repo: {repo_path}\n    rev: {rev}\n    hooks:\n'
        f'    -   id: pin-from-update\n        args: [--report, pin-from-report.md]\n',
    )
    image = f'{registry.host}/{unique_repo}:1.0'
    (work / 'Dockerfile').write_text(f'FROM {image}@{old}\n')
    (work / 'deploy' / 'pod.yaml').write_text(
        f'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: {image}@{old}\n',
    )
    git('init', '-q', cwd=work, env=env)
    git('add', '-A', cwd=work, env=env)
    new = push_image(registry.url, unique_repo, '1.0', seed='new')

    scheduled = subprocess.run(
        (PRE_COMMIT, 'run', 'pin-from-update', '--hook-stage', 'manual', '--files', 'Dockerfile'),
        cwd=work, env=env, capture_output=True, text=True,
    )
    assert scheduled.returncode == 1, scheduled.stdout + scheduled.stderr
    assert (work / 'Dockerfile').read_text() == f'FROM {image}@{new}\n'
    assert f'image: {image}@{new}\n' in (work / 'deploy' / 'pod.yaml').read_text()
    report = (work / 'pin-from-report.md').read_text()
    assert '`Dockerfile:1`' in report and '`deploy/pod.yaml:6`' in report
