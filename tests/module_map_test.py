"""The README's module map names every module of the package, and nothing that is gone."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> set[str]:
    package = ROOT / 'pin_from'
    names = set()
    for path in package.rglob('*.py'):
        parts = path.relative_to(package).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        if parts:
            names.add('.'.join(parts))
    return names


def _mapped() -> set[str]:
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    table = readme.split('**Modules**', 1)[1].split('\n\n', 2)[1]
    names = set()
    for row in table.splitlines()[2:]:
        first = row.split('|')[1]
        names.update(re.findall(r'`([a-z_][a-z_.]*)`', first))
    return names


def test_the_readme_maps_every_module():
    assert sorted(_modules() - _mapped()) == []


def test_the_readme_maps_no_module_that_is_gone():
    assert sorted(_mapped() - _modules()) == []


def test_the_map_is_read_from_the_table():
    assert {'pin', 'kinds', 'registry.http', 'files.edit'} <= _mapped()
