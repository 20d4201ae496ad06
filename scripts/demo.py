"""The self-contained demo behind ``scripts/demo`` (see the README)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.registry import RegistryServer, push_image  # noqa: E402

ENV = {'3.12-slim': {'PYTHON_VERSION': '3.12.6', 'LANG': 'C.UTF-8'}}
IMAGES = (
    ('docker/dockerfile', '1'),
    ('library/python', '3.12-slim'),
    ('library/python', '3.7-slim'),
    ('library/busybox', '1.37'),
    ('library/node', '24'),
    ('library/alpine', '3.22'),
)


def run(*cmd: str) -> int:
    print(f'\n$ {" ".join(cmd)}', flush=True)
    return subprocess.call(cmd)


def main() -> int:
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix='pin-from-demo-') as tmp:
        work = Path(tmp)
        with RegistryServer(work) as registry:
            for repo, tag in IMAGES:
                push_image(registry.url, f'hub/{repo}', tag, seed=f'{repo}:{tag}', env=ENV.get(tag))
            print(f'A local registry at {registry.url} plays Docker Hub '
                  f'(its hub/ prefix), holding: '
                  + ', '.join(f'{r.removeprefix("library/")}:{t}' for r, t in IMAGES))
            dockerfile = work / 'Dockerfile'
            shutil.copy(ROOT / 'examples' / 'Dockerfile', dockerfile)
            env_args = (
                '--cache-dir', str(work / 'cache'),
                '--registry-mirror', f'docker.io={registry.url}/hub',
            )
            pin = str(bindir / 'pin-from')
            run(pin, *env_args, '-v', str(dockerfile))
            print(f'\n$ cat {dockerfile}', flush=True)
            print(dockerfile.read_text(), end='')
            rc = run(pin, *env_args, str(dockerfile))
            print(f'(exit {rc}: a second run changes nothing)')
            print('\nThe maintainers push python:3.12-slim again (3.12.7, one more layer):')
            push_image(registry.url, 'hub/library/python', '3.12-slim', seed='moved', layers=2,
                       env={'PYTHON_VERSION': '3.12.7', 'LANG': 'C.UTF-8'})
            report = work / 'report.md'
            run(pin, *env_args, '--update', '--report', str(report),
                '--library-url', str(ROOT / 'examples' / 'official-images' / 'library'), str(dockerfile))
            print(f'\n$ cat {report}', flush=True)
            print(report.read_text(), end='')
            check = bindir / 'check-deprecated-tags'
            if check.exists():
                run(str(check), '--cache-dir', str(work / 'cache'),
                    '--library-url', str(ROOT / 'examples' / 'official-images' / 'library'),
                    '--docs-url', str(ROOT / 'examples' / 'official-images' / 'docs'),
                    str(dockerfile))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
