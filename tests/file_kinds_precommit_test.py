"""A real ``git commit`` through pre-commit of a repository with one file of
each kind of issue 21: the hook is chosen by ``.pre-commit-hooks.yaml``'s
``files:`` pattern, stops the commit with every file pinned, and the next
commit passes."""
from __future__ import annotations

import os
import subprocess

from tests.file_kinds_pin_test import HCL_FILES
from tests.file_kinds_pin_test import OTHER_FILES
from tests.file_kinds_pin_test import YAML_FILES
from tests.file_kinds_pin_test import hub  # noqa: F401 -- fixtures
from tests.file_kinds_pin_test import make_tree  # noqa: F401
from tests.precommit_test import GIT_ENV
from tests.precommit_test import PRE_COMMIT
from tests.precommit_test import git
from tests.precommit_test import hook_repo  # noqa: F401
from tests.precommit_test import pre_commit_home  # noqa: F401

NOT_A_KIND = {
    'package.json': '{"name": "app", "image": "python:3.12-slim"}\n',
    'README.md': 'FROM python:3.12-slim\n',
    'other/devcontainer.json': '{"image": "python:3.12-slim"}\n',
}


def test_one_commit_of_every_kind(hook_repo, pre_commit_home, hub, make_tree, tmp_path):  # noqa: F811
    repo_path, rev = hook_repo
    files = {**YAML_FILES, **OTHER_FILES, **HCL_FILES, **NOT_A_KIND}
    tree = make_tree(files)
    work = tree.root
    (work / '.pre-commit-config.yaml').write_text(
        f'repos:\n-   repo: {repo_path}\n    rev: {rev}\n    hooks:\n    -   id: pin-from\n'
        f'        args: [--registry-mirror, "{hub.mirror}"]\n',
    )
    env = {**os.environ, **GIT_ENV, 'PRE_COMMIT_HOME': str(pre_commit_home)}
    git('init', '-q', cwd=work, env=env)
    subprocess.run((PRE_COMMIT, 'install'), cwd=work, env=env, check=True, capture_output=True)
    git('add', '-A', cwd=work, env=env)

    first = subprocess.run(('git', 'commit', '-m', 'add'), cwd=work, env=env, capture_output=True, text=True)
    said = first.stdout + first.stderr
    assert first.returncode != 0, said
    assert tree.read() == tree.after, said  # every kind pinned; the files of no kind untouched
    pinned = {line.split(':', 1)[0] for line in said.splitlines() if ': pinned ' in line}
    assert pinned == {n for n, marks in tree.marks.items() if marks}
    status = git('status', '--porcelain', '--untracked-files=no', cwd=work, env=env)
    assert sorted(line[3:] for line in status.splitlines() if line[1] == 'M') == sorted(pinned)

    git('add', '-A', cwd=work, env=env)
    second = subprocess.run(('git', 'commit', '-m', 'add'), cwd=work, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    for name in pinned:
        assert git('show', f'HEAD:{name}', cwd=work, env=env) == tree.after[name]
