"""A real ``git commit`` through pre-commit of a repository with one file of
each kind of issue 21: the hook is chosen by ``.pre-commit-hooks.yaml``'s
``files:`` pattern, stops the commit with every file pinned, and the next
commit passes."""
from __future__ import annotations


from tests.file_kinds_pin_test import HCL_FILES
from tests.file_kinds_pin_test import OTHER_FILES
from tests.file_kinds_pin_test import YAML_FILES
from tests.file_kinds_pin_test import hub  # noqa: F401 -- fixtures
from tests.file_kinds_pin_test import make_tree  # noqa: F401
from tests.precommit_test import commit
from tests.precommit_test import git
from tests.precommit_test import hooked_project
from tests.precommit_test import hook_repo  # noqa: F401
from tests.precommit_test import pre_commit_home  # noqa: F401

NOT_A_KIND = {
    'package.json': '{"name": "app", "image": "python:3.12-slim"}\n',
    'README.md': 'FROM python:3.12-slim\n',
    'other/devcontainer.json': '{"image": "python:3.12-slim"}\n',
}


def test_one_commit_of_every_kind(hook_repo, pre_commit_home, hub, make_tree, tmp_path):  # noqa: F811
    files = {**YAML_FILES, **OTHER_FILES, **HCL_FILES, **NOT_A_KIND}
    tree = make_tree(files)
    work = tree.root
    hooks = f'    -   id: pin-from\n        args: [--registry-mirror, "{hub.mirror}"]\n'
    env = hooked_project(work, hook_repo, pre_commit_home, hooks)

    first = commit(work, env)
    said = first.stdout + first.stderr
    assert first.returncode != 0, said
    assert tree.read() == tree.after, said  # every kind pinned; the files of no kind untouched
    pinned = {line.split(':', 1)[0] for line in said.splitlines() if ': pinned ' in line}
    assert pinned == {n for n, marks in tree.marks.items() if marks}
    status = git('status', '--porcelain', '--untracked-files=no', cwd=work, env=env)
    assert sorted(line[3:] for line in status.splitlines() if line[1] == 'M') == sorted(pinned)

    git('add', '-A', cwd=work, env=env)
    second = commit(work, env)
    assert second.returncode == 0, second.stdout + second.stderr
    for name in pinned:
        assert git('show', f'HEAD:{name}', cwd=work, env=env) == tree.after[name]
