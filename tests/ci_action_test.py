"""The GitHub Action (``action.yml`` at the root) and the GitLab CI template
(``examples/ci/gitlab-ci.yml``): valid against the published schemas (copied
into tests/data/schemas, see its README), and the action's re-pin step run for
real, as a runner would run it, against the loopback registry."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from pin_from.kinds import kind_for
from pin_from.pin import main
from tests.ci_recipe_test import LIBRARY
from tests.ci_recipe_test import PIN_FROM
from tests.ci_recipe_test import Project
from tests.ci_recipe_test import hub  # noqa: F401 -- fixtures
from tests.ci_recipe_test import project  # noqa: F401
from tests.data import DATA

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / 'action.yml'
GITLAB = ROOT / 'examples' / 'ci' / 'gitlab-ci.yml'
SCHEMAS = DATA / 'schemas'


def schema(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text())


def test_the_action_is_valid_against_schemastores_schema():
    action = yaml.safe_load(ACTION.read_text())
    jsonschema.validate(action, schema('github-action.json'))
    assert action['runs']['using'] == 'composite'


def test_the_schema_catches_a_broken_action():
    """The validation can fail: a composite run step needs a shell."""
    action = yaml.safe_load(ACTION.read_text())
    del action['runs']['steps'][1]['shell']
    try:
        jsonschema.validate(action, schema('github-action.json'))
    except jsonschema.ValidationError:
        return
    raise AssertionError('a run step without shell passed')


def test_the_gitlab_template_is_valid_against_gitlabs_schema():
    template = yaml.safe_load(GITLAB.read_text())
    jsonschema.validate(template, schema('gitlab-ci.json'))
    assert 'pin-from-update' in template
    broken = {'pin-from-update': {**template['pin-from-update'], 'when': 'sometimes'}}
    try:
        jsonschema.validate(broken, schema('gitlab-ci.json'))
    except jsonschema.ValidationError:
        return
    raise AssertionError('an invalid when: passed')


def test_the_root_action_is_an_action_with_nothing_to_pin(capsys):
    """pin-from reads the root action.yml as Action metadata: a composite action
    with no docker:// step, so there is nothing in it to pin or to complain about."""
    assert kind_for(str(ACTION)) == 'action'
    assert main(['-v', str(ACTION)]) == 0
    assert capsys.readouterr().out == ''


def run_step(project: Project, tmp_path: Path, mirror: str, name: str = 'Re-pin moved tags',
             **inputs: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """One run step of the action, as the runner runs it: bash, the step's env with its
    ${{ inputs.* }} filled, GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_OUTPUT."""
    action = yaml.safe_load(ACTION.read_text())
    step = next(s for s in action['runs']['steps'] if s.get('name') == name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PIN_FROM', 'GITHUB_', 'GIT_', 'INPUT_'))}
    for key, value in step.get('env', {}).items():
        field = value.removeprefix('${{ inputs.').removesuffix(' }}')
        env[key] = inputs.get(field, action['inputs'][field]['default'])
    (tmp_path / 'runner').mkdir()
    output = tmp_path / 'github-output'
    env.update(GITHUB_ACTION_PATH=str(ROOT), RUNNER_TEMP=str(tmp_path / 'runner'), GITHUB_OUTPUT=str(output),
               PIN_FROM=PIN_FROM, GIT_CONFIG_NOSYSTEM='1')
    done = subprocess.run(('bash', '-e', '-c', step['run']), cwd=project.work, env=env,
                          capture_output=True, text=True, timeout=120)
    return done, parse_outputs(output.read_text() if output.exists() else '')


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: ``name=value`` lines and ``name<<DELIMITER`` blocks."""
    ret: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, eq, value = line.partition('=')
        if eq and '<<' not in name:
            ret[name] = value
            continue
        name, _, delimiter = line.partition('<<')
        block = []
        for inner in lines:
            if inner == delimiter:
                break
            block.append(inner)
        ret[name] = '\n'.join(block)
    return ret


def test_the_action_re_pins_and_leaves_the_files_and_report(project, hub, tmp_path):  # noqa: F811
    old = hub.push('python:3.12-slim', 'a', '3.12.6')
    project.commit_all({'Dockerfile': f'FROM python:3.12-slim@{old}\n'})
    new = hub.push('python:3.12-slim', 'b', '3.12.7')
    args = f'--registry-mirror {hub.mirror} --library-url {LIBRARY}'
    done, outputs = run_step(project, tmp_path, hub.mirror, args=args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs == {'report': str(tmp_path / 'runner' / 'pin-from-report.md'), 'moved': 'true',
                       'files': ':(literal)Dockerfile'}
    assert (project.work / 'Dockerfile').read_text() == f'FROM python:3.12-slim@{new}\n'
    report = Path(outputs['report']).read_text()
    assert old in report and new in report
    assert 'Dockerfile' in subprocess.run(('git', 'status', '--porcelain'), cwd=project.work,
                                          capture_output=True, text=True, check=True).stdout

    again, outputs = run_step_again(project, tmp_path, hub.mirror, args)
    assert again.returncode == 0 and outputs['moved'] == 'false'


def run_step_again(project: Project, tmp_path: Path, mirror: str, args: str) -> tuple[Any, dict[str, str]]:
    subprocess.run(('git', 'commit', '-qam', 're-pinned'), cwd=project.work, check=True)
    second = tmp_path / 'second'
    second.mkdir()
    return run_step(project, second, mirror, args=args)
