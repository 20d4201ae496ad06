"""examples/ci: the scheduled-update recipe, run for real.

``bash examples/ci/pin-from-update.sh`` runs against a real registry (standing
in for docker.io through ``--registry-mirror``), in a git work repository whose
``origin`` is a local bare repository, with the venv's ``pin-from``.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from tests.registry_server import delete_tag, free_port, push_image

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'examples' / 'ci' / 'pin-from-update.sh'
WORKFLOW = ROOT / 'examples' / 'ci' / 'pin-from-update.yml'
LIBRARY = ROOT / 'examples' / 'official-images' / 'library'
PIN_FROM = str(Path(sys.executable).parent / 'pin-from')
BRANCH = 'pin-from/update'
TITLE = 'Re-pin moved base images'


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ('git', *args), cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout


class Project(NamedTuple):
    work: Path  # the checkout the job runs in
    remote: Path  # its origin, a bare repository

    def commit_all(self, files: dict[str, str]) -> str:
        for name, text in files.items():
            (self.work / name).parent.mkdir(parents=True, exist_ok=True)
            (self.work / name).write_text(text)
        git('add', '-A', cwd=self.work)
        git('commit', '-qm', 'initial', cwd=self.work)
        git('push', '-q', 'origin', 'main', cwd=self.work)
        return git('rev-parse', 'HEAD', cwd=self.work).strip()

    def remote_heads(self) -> list[str]:
        out = git('for-each-ref', '--format=%(refname)', 'refs/heads', cwd=self.remote)
        return out.split()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    remote, work = tmp_path / 'remote.git', tmp_path / 'work'
    git('init', '-q', '--bare', str(remote), cwd=tmp_path)
    git('init', '-q', '-b', 'main', str(work), cwd=tmp_path)
    git('config', 'user.name', 'CI Bot', cwd=work)
    git('config', 'user.email', 'ci@example.com', cwd=work)
    git('remote', 'add', 'origin', str(remote), cwd=work)
    return Project(work, remote)


class Hub(NamedTuple):
    """The test registry as docker.io, under a prefix of its own."""

    url: str
    prefix: str

    @property
    def mirror(self) -> str:
        return f'docker.io={self.url}/{self.prefix}'

    def push(self, ref: str, seed: str, version: str) -> str:
        name, tag = ref.split(':')
        return push_image(
            self.url, f'{self.prefix}/library/{name}', tag, seed=seed,
            env={'PYTHON_VERSION': version},
        )

    def delete(self, name: str, digest: str) -> None:
        delete_tag(self.url, f'{self.prefix}/library/{name}', digest)


@pytest.fixture
def hub(registry, unique_repo: str) -> Hub:
    return Hub(registry.url, unique_repo.replace('/', '-'))


def run_recipe(
        project: Project, mirror: str, tmp_path: Path, cwd: str = '', **env: str,
) -> subprocess.CompletedProcess[str]:
    """The script as a CI job runs it; ``env`` adds PIN_FROM_* settings."""
    job_env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(('PIN_FROM', 'GITHUB_', 'GIT_'))  # never the real CI's
    }
    job_env.update(PIN_FROM=PIN_FROM, GIT_CONFIG_NOSYSTEM='1',
                   GITHUB_OUTPUT=str(tmp_path / 'github-output'), **env)
    return subprocess.run(
        ('bash', str(SCRIPT), '--registry-mirror', mirror, '--library-url', str(LIBRARY)),
        cwd=project.work / cwd, env=job_env, capture_output=True, text=True, timeout=120,
    )


def github_output(tmp_path: Path) -> str:
    path = tmp_path / 'github-output'
    return path.read_text() if path.exists() else ''


COMPOSE = 'services:\n  api:\n    image: python:3.12-slim@{}\n'
POD = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\nspec:\n  containers:\n  - name: api\n    image: python:3.12-slim@{}\n'
VALUES = 'image:\n  repository: python\n  tag: 3.12-slim\n  digest: "{}"\n'  # a Helm chart's values: a digest key


def test_moved_tag_is_committed_with_the_report_and_pushed(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    main = project.commit_all({
        'Dockerfile': f'FROM python:3.12-slim@{old}\nRUN true\n',
        'services/api/app.Dockerfile': f'FROM python:3.12-slim@{old} AS build\n',
        'compose.yaml': COMPOSE.format(old),
        'deploy/pod.yaml': POD.format(old),
        'chart/Chart.yaml': 'apiVersion: v2\nname: api\nversion: 1.0.0\n',
        'chart/values.yaml': VALUES.format(old),
        'deploy/settings.yaml': 'replicas: 2\n',  # YAML of no images: untouched
        'notes.txt': f'FROM python:3.12-slim@{old}\n',  # not a file of a known kind
    })
    (project.work / 'scratch.Dockerfile').write_text(f'FROM python:3.12-slim@{old}\n')  # untracked
    new = hub.push('python:3.12-slim', 'b', '3.12.7')

    proc = run_recipe(project, hub.mirror, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    assert sorted(project.remote_heads()) == ['refs/heads/main', f'refs/heads/{BRANCH}']
    message = git('log', '-1', '--format=%B', BRANCH, cwd=project.remote)
    subject, blank, *body = message.splitlines()
    assert (subject, blank) == (TITLE, '')
    body_text = '\n'.join(body)
    assert body_text.startswith('## Base image updates')  # the heading survives commit cleanup
    assert f'`{old}` → `{new}`' in body_text
    assert '`PYTHON_VERSION` `3.12.6` → `3.12.7`' in body_text
    assert '`Dockerfile:1`' in body_text and '`services/api/app.Dockerfile:1`' in body_text
    assert '[docker-library/python@' in body_text  # the library entry, from --library-url

    assert git('rev-parse', f'{BRANCH}^', cwd=project.remote).strip() == main
    changed = git('diff-tree', '--no-commit-id', '--name-only', '-r', BRANCH, cwd=project.remote).split()
    assert changed == [
        'Dockerfile', 'chart/values.yaml', 'compose.yaml', 'deploy/pod.yaml', 'services/api/app.Dockerfile']
    assert git('show', f'{BRANCH}:compose.yaml', cwd=project.remote) == COMPOSE.format(new)
    assert git('show', f'{BRANCH}:chart/values.yaml', cwd=project.remote) == VALUES.format(new)
    assert '`chart/values.yaml:4`' in body_text
    assert git('show', f'{BRANCH}:deploy/pod.yaml', cwd=project.remote) == POD.format(new)
    assert '`compose.yaml:3`' in body_text and '`deploy/pod.yaml:8`' in body_text
    assert git('show', f'{BRANCH}:Dockerfile', cwd=project.remote) == f'FROM python:3.12-slim@{new}\nRUN true\n'
    assert git('show', f'{BRANCH}:services/api/app.Dockerfile', cwd=project.remote) == (
        f'FROM python:3.12-slim@{new} AS build\n')
    assert git('rev-parse', 'main', cwd=project.remote).strip() == main
    assert (project.work / 'scratch.Dockerfile').read_text() == f'FROM python:3.12-slim@{old}\n'
    assert (project.work / 'notes.txt').read_text() == f'FROM python:3.12-slim@{old}\n'
    moved, files = github_output(tmp_path).split('\n', 1)
    assert moved == 'moved=true'
    assert files.splitlines()[1:-1] == [
        ':(literal)Dockerfile', ':(literal)chart/values.yaml', ':(literal)compose.yaml', ':(literal)deploy/pod.yaml',
        ':(literal)services/api/app.Dockerfile',
    ]
    assert files.startswith('files<<EOF_') and files.splitlines()[-1] == files.splitlines()[0][len('files<<'):]


def test_a_second_move_refreshes_the_same_branch(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    main = project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    hub.push('python:3.12-slim', 'b', '3.12.7')
    assert run_recipe(project, hub.mirror, tmp_path).returncode == 0

    git('switch', '-q', 'main', cwd=project.work)  # the next scheduled run starts from main again
    newest = hub.push('python:3.12-slim', 'c', '3.12.8')
    proc = run_recipe(project, hub.mirror, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git('show', f'{BRANCH}:Dockerfile', cwd=project.remote) == f'FROM python:3.12-slim@{newest}\n'
    assert git('rev-parse', f'{BRANCH}^', cwd=project.remote).strip() == main  # rebuilt, not stacked


def test_nothing_moved_exits_0_and_pushes_nothing(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n', 'sub/README': 'docs\n'})

    # from a subdirectory, with a report path relative to it
    proc = run_recipe(project, hub.mirror, tmp_path, cwd='sub', PIN_FROM_REPORT='../../report.md')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'no base image tag moved' in proc.stdout
    assert (tmp_path / 'report.md').read_text() == 'No base image tag moved.\n'
    assert project.remote_heads() == ['refs/heads/main']
    assert git('status', '--porcelain', cwd=project.work) == ''
    assert github_output(tmp_path) == 'moved=false\n'


def test_registry_down_fails_and_pushes_nothing(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    closed = f'docker.io=http://127.0.0.1:{free_port()}'

    proc = run_recipe(project, closed, tmp_path)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert 'nothing committed or pushed' in proc.stderr
    assert project.remote_heads() == ['refs/heads/main']
    assert git('status', '--porcelain', cwd=project.work) == ''
    assert github_output(tmp_path) == ''


def test_a_failed_lookup_among_moves_fails_and_pushes_nothing(project, hub, tmp_path):
    """One tag moved, another is gone: a partial update must not look like success."""
    moved = hub.push('python:3.12-slim', 'a', '3.12.6')
    gone = hub.push('python:3.11-slim', 'a', '3.11.9')
    project.commit_all({
        'Dockerfile': f'FROM python:3.12-slim@{moved}\n',
        'legacy.Dockerfile': f'FROM python:3.11-slim@{gone}\n',
    })
    hub.push('python:3.12-slim', 'b', '3.12.7')
    hub.delete('python', gone)

    proc = run_recipe(project, hub.mirror, tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # pin-from's code, passed through
    assert 'pin-from failed (exit 3)' in proc.stderr
    assert project.remote_heads() == ['refs/heads/main']


def test_gitlab_push_options_are_single_lines(project, hub, tmp_path):
    """PIN_FROM_FORGE=gitlab: the push options a GitLab remote receives."""
    git('config', 'receive.advertisePushOptions', 'true', cwd=project.remote)
    seen = tmp_path / 'push-options'
    hook = project.remote / 'hooks' / 'pre-receive'
    hook.write_text(
        '#!/bin/bash\nfor ((i = 0; i < ${GIT_PUSH_OPTION_COUNT:-0}; i++)); do\n'
        f'    var=GIT_PUSH_OPTION_$i; printf "%s\\0" "${{!var}}" >> {seen}\ndone\n',
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    hub.push('python:3.12-slim', 'b', '3.12.7')

    proc = run_recipe(project, hub.mirror, tmp_path, PIN_FROM_FORGE='gitlab')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seen.read_text().split('\0')[:-1] == [
        'merge_request.create', f'merge_request.title={TITLE}', 'merge_request.remove_source_branch',
    ]
    assert f'refs/heads/{BRANCH}' in project.remote_heads()


def test_commit_false_leaves_the_changes_for_a_forge_action(project, hub, tmp_path):
    """What the GitHub workflow's step does before peter-evans/create-pull-request."""
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    main = project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    new = hub.push('python:3.12-slim', 'b', '3.12.7')
    report = tmp_path / 'runner-temp' / 'pin-from-report.md'
    report.parent.mkdir()

    proc = run_recipe(project, hub.mirror, tmp_path, PIN_FROM_COMMIT='false', PIN_FROM_REPORT=str(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (project.work / 'Dockerfile').read_text() == f'FROM python:3.12-slim@{new}\n'
    assert git('rev-parse', 'HEAD', cwd=project.work).strip() == main
    assert git('status', '--porcelain', cwd=project.work) == ' M Dockerfile\n'
    assert project.remote_heads() == ['refs/heads/main']
    assert report.read_text().startswith('## Base image updates') and new in report.read_text()
    assert github_output(tmp_path).startswith('moved=true\nfiles<<EOF_')
    assert ':(literal)Dockerfile\n' in github_output(tmp_path)


def test_uncommitted_dockerfile_is_refused(project, hub, tmp_path):
    project.commit_all({'Dockerfile': 'FROM python:3.12-slim\n'})
    (project.work / 'Dockerfile').write_text('FROM python:3.13-slim\n')
    proc = run_recipe(project, hub.mirror, tmp_path)
    assert proc.returncode == 2
    assert 'uncommitted changes' in proc.stderr
    assert (project.work / 'Dockerfile').read_text() == 'FROM python:3.13-slim\n'
    assert project.remote_heads() == ['refs/heads/main']


def test_examples_fail_loudly_and_agree():
    script = SCRIPT.read_text()
    workflow_text = WORKFLOW.read_text()
    for text in (script, workflow_text):
        assert '|| true' not in text
    assert ' -o merge_request.description' not in script  # multi-line push options are refused by git
    subprocess.run(('bash', '-n', str(SCRIPT)), check=True)

    workflow = yaml.safe_load(workflow_text)
    steps = workflow['jobs']['update']['steps']
    pin = next(s for s in steps if s.get('id') == 'pin')
    assert pin['run'].endswith('pin-from-update.sh') and pin['env']['PIN_FROM_COMMIT'] == 'false'
    pull = next(s for s in steps if s.get('uses', '').startswith('peter-evans/create-pull-request@'))
    assert pull['if'] == "steps.pin.outputs.moved == 'true'"
    assert pull['with']['body-path'] == pin['env']['PIN_FROM_REPORT']
    # the pull request commits exactly the files pin-from changed, as the script names them
    assert pull['with']['add-paths'] == '${{ steps.pin.outputs.files }}'
    assert '--update --report "$report" "$@" -- .' in script  # the whole repository, in one run


def test_the_commit_skips_the_repositorys_own_hooks(project, hub, tmp_path):
    """A developer's pre-commit hook (check-deprecated-tags failing, say) is not this job's check."""
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    for name in ('pre-commit', 'commit-msg', 'pre-push'):
        hook = project.work / '.git' / 'hooks' / name
        hook.write_text('#!/bin/sh\necho "hook ran" >&2\nexit 1\n')
        hook.chmod(0o755)
    new = hub.push('python:3.12-slim', 'b', '3.12.7')
    proc = run_recipe(project, hub.mirror, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'hook ran' not in proc.stderr
    assert git('show', f'{BRANCH}:Dockerfile', cwd=project.remote) == f'FROM python:3.12-slim@{new}\n'


def test_a_failed_commit_switches_back_and_says_so(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    main = project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    git('config', '--unset', 'user.name', cwd=project.work)  # no identity: git commit fails
    git('config', '--unset', 'user.email', cwd=project.work)
    git('config', 'user.useConfigOnly', 'true', cwd=project.work)
    new = hub.push('python:3.12-slim', 'b', '3.12.7')
    proc = run_recipe(project, hub.mirror, tmp_path, HOME=str(tmp_path / 'nohome'))
    assert proc.returncode != 0
    assert ('pin-from-update: git commit failed (exit 128); switched back to main; '
            'the re-pinned files are left uncommitted; nothing pushed') in proc.stderr
    assert git('symbolic-ref', '--short', 'HEAD', cwd=project.work).strip() == 'main'
    assert git('rev-parse', 'HEAD', cwd=project.work).strip() == main
    assert (project.work / 'Dockerfile').read_text() == f'FROM python:3.12-slim@{new}\n'
    assert project.remote_heads() == ['refs/heads/main']


def test_a_failed_push_switches_back_and_says_so(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    main = project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    hook = project.remote / 'hooks' / 'pre-receive'  # the remote refuses from now on
    hook.write_text('#!/bin/sh\necho refused >&2\nexit 1\n')
    hook.chmod(0o755)
    hub.push('python:3.12-slim', 'b', '3.12.7')
    proc = run_recipe(project, hub.mirror, tmp_path)
    assert proc.returncode != 0
    assert ('git push failed (exit 1); switched back to main; the commit stays on the local branch '
            'pin-from/update; nothing pushed') in proc.stderr
    assert git('symbolic-ref', '--short', 'HEAD', cwd=project.work).strip() == 'main'
    assert git('rev-parse', 'HEAD', cwd=project.work).strip() == main
    assert git('status', '--porcelain', cwd=project.work) == ''
    assert project.remote_heads() == ['refs/heads/main']


def test_exit_1_without_a_changed_file_commits_nothing(project, hub, tmp_path):
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    hub.push('python:3.12-slim', 'b', '3.12.7')
    job_env = {k: v for k, v in os.environ.items() if not k.startswith(('PIN_FROM', 'GITHUB_', 'GIT_'))}
    proc = subprocess.run(
        ('bash', str(SCRIPT), '--registry-mirror', hub.mirror, '--library-url', str(LIBRARY), '--check'),
        cwd=project.work, env={**job_env, 'PIN_FROM': PIN_FROM}, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert 'pin-from exited 1 but changed no file; nothing committed or pushed' in proc.stderr
    assert project.remote_heads() == ['refs/heads/main']
    assert git('symbolic-ref', '--short', 'HEAD', cwd=project.work).strip() == 'main'
