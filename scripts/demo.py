"""The self-contained demo behind ``scripts/demo`` (see the README)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.attested_images import SLSA_V02, SPDX, push_attested_image  # noqa: E402
from tests.registry_server import RegistryServer, push_image  # noqa: E402

ATTESTATIONS = ROOT / 'examples' / 'attestations'
SLSA_V1 = 'https://slsa.dev/provenance/v1'

ENV = {'3.12-slim': {'PYTHON_VERSION': '3.12.6', 'LANG': 'C.UTF-8'}}
IMAGES = (
    ('docker/dockerfile', '1'),
    ('library/python', '3.12-slim'),
    ('library/python', '3.7-slim'),
    ('library/busybox', '1.37'),
    ('library/node', '24'),
    ('library/alpine', '3.22'),
)


def run(*cmd: str, cwd: Path | None = None) -> int:
    print(f'\n$ {"cd " + str(cwd) + " && " if cwd else ""}{" ".join(cmd)}', flush=True)
    return subprocess.call(cmd, cwd=cwd)


def statements(side: str, provenance: str, version: str) -> dict[str, bytes]:
    """The SBOM and provenance (examples/attestations) of the old or new nginx:1.2."""
    return {
        SPDX: (ATTESTATIONS / f'sbom-{side}.spdx.json').read_bytes(),
        provenance: (ATTESTATIONS / f'provenance-{side}.{version}.json').read_bytes(),
    }


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
            old_nginx = push_attested_image(registry.url, 'hub/library/nginx', '1.2',
                                            statements('old', SLSA_V02, 'v0.2'), seed='old').index
            web = work / 'web.Dockerfile'
            web.write_text(f'FROM nginx:1.2@{old_nginx}\n')
            print(f'\nAnother Dockerfile, pinned a while ago to an image built with SBOM and provenance '
                  f'attestations:\n$ cat {web}\n{web.read_text()}', end='')
            print('\nThe maintainers push python:3.12-slim again (3.12.7, one more layer), and nginx:1.2 '
                  '(a security fix, new attestations):')
            push_image(registry.url, 'hub/library/python', '3.12-slim', seed='moved', layers=2,
                       env={'PYTHON_VERSION': '3.12.7', 'LANG': 'C.UTF-8'})
            push_attested_image(registry.url, 'hub/library/nginx', '1.2', statements('new', SLSA_V1, 'v1'), seed='new')
            report = work / 'report.md'
            run(pin, *env_args, '--update', '--report', str(report),
                '--library-url', str(ROOT / 'examples' / 'official-images' / 'library'),
                '--osv', str(ROOT / 'examples' / 'osv'), dockerfile.name, web.name, cwd=work)
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
