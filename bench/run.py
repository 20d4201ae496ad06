"""pin-from's benchmark (issue 6): warm runs against interpreter start, cold runs against pindock.

Run from a checkout with ``scripts/bench`` (which bootstraps ``.venv`` first), or
``.venv/bin/python bench/run.py [--quick] [--seed N] ...``. See bench/README.md.

What it does, all on loopback, reproducible from ``--seed``:

1. starts Debian's ``docker-registry`` (tests/registry_server.py's RegistryServer) and
   pushes the distinct image tags the workloads use (small real OCI images, a
   third of them two-platform indexes), straight to the registry;
2. puts ``bench/latency_proxy.py`` in front of it (``--delay`` each way, the TCP
   handshake modelled too), so every lookup costs what it costs across the
   internet; the Dockerfiles name images as ``127.0.0.1:<proxy port>/bench/...``,
   a loopback registry, so both pin-from and pindock reach it with no flag;
3. generates repositories of Dockerfiles (multi-stage, ``COPY --from=image``,
   ``RUN --mount=from=image``, some references already pinned, popular tags
   shared by many files) and measures, each as the median of several runs of a
   fresh process (wall time, and peak RSS from ``os.wait4``):

   - ``python -c pass`` with pin-from's interpreter (the baseline);
   - steady: every file already pinned, ``pin-from FILES``;
   - warm: files not pinned, every answer cached and fresh, ``pin-from --check``
     (and without ``--check``, on a fresh copy each time: writes included);
   - cold: an empty ``--cache-dir``, ``pin-from FILES`` on a fresh copy;
   - pindock (installed with pip into a venv under the work directory), cold, on
     a fresh copy of the same files, against the same proxied registry;
   - the same cold runs against a token-auth registry (token requests counted);
   - a scale table (files x tags).

Requests are counted from the registry's access log (and the token server's
log), connections from the proxy's log -- not from what the tools say. After
each cold run the files are compared with the expected pinned files, byte for
byte, so both tools are seen to do the same work.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.registry_server import MANIFEST_ACCEPT, RegistryServer, TokenServer, push_image  # noqa: E402

REPO_PREFIX = 'bench'
TAGS_PER_REPO = 5
TWO_PLATFORM_SHARE = 1 / 3
PINNED_SHARE = 0.2  # of the references in the not-yet-pinned workload
ZIPF_S = 1.1  # popularity of tags: a few are used by many files
DEFAULT_REPEATS = 5
PLATFORMS_2 = (('linux', 'amd64'), ('linux', 'arm64'))
PLATFORMS_1 = (('linux', 'amd64'),)
HEAVY_MODULES = ('requests', 'urllib3', 'diskcache', 'sqlite3', 'concurrent.futures',
                 'ssl', 'http.client', 'dockerfile_parse', 'yaml', 'json', 'email')
# What pin-from's regular install is built from: the checkout's files, not its .venv or .git.
SOURCE_IGNORE = ('.venv', '.git', 'build', 'dist', '*.egg-info', '__pycache__', '.mypy_cache',
                 '.pytest_cache', '.hypothesis', 'tests', 'bench', 'examples')


# --- the catalog of images ---------------------------------------------------

class Image(NamedTuple):
    repo: str  # e.g. bench/img003
    tag: str
    platforms: int


def catalog(count: int, seed: int) -> list[Image]:
    """``count`` distinct tags, TAGS_PER_REPO per repository; a prefix of a larger catalog.

    A third of the repositories hold two-platform images (an OCI index), the
    others single-platform ones.
    """
    rng = random.Random(f'catalog:{seed}')
    suffixes = ('', '-slim', '-alpine', '-bookworm', '-noble')
    images = []
    platforms = 1
    for i in range(count):
        if i % TAGS_PER_REPO == 0:
            platforms = 2 if rng.random() < TWO_PLATFORM_SHARE else 1
        repo = f'{REPO_PREFIX}/img{i // TAGS_PER_REPO:04d}'
        j = i % TAGS_PER_REPO
        major = (i // TAGS_PER_REPO) % 23 + 1
        tag = f'{major}.{j}{suffixes[(i * 7 + j) % len(suffixes)]}'
        images.append(Image(repo, tag, platforms))
    return images


def push_catalog(registry_url: str, images: Sequence[Image], seed: int,
                 token_server: Optional[TokenServer] = None, jobs: int = 8) -> dict[Image, str]:
    """Push every image; image -> digest. Repositories are pushed in parallel.

    The first tag of a repository is a real image pushed with push_image (its
    blobs, platform manifests and index); each further tag is that top-level
    manifest with an annotation naming the tag -- other bytes, so another
    digest -- put with one request. 200 tags take a few seconds, 2,000 about
    ten times that, instead of a minute and more with push_image for each.
    """
    by_repo: dict[str, list[Image]] = {}
    for image in images:
        by_repo.setdefault(image.repo, []).append(image)

    def one(repo_images: list[Image]) -> list[tuple[Image, str]]:
        first = repo_images[0]
        repo = first.repo
        digest = push_image(
            registry_url, repo, first.tag,
            platforms=PLATFORMS_2 if first.platforms == 2 else PLATFORMS_1,
            seed=f'{seed}:{repo}',
        )
        out = [(first, digest)]
        if len(repo_images) == 1:
            return out
        session = requests.Session()
        session.trust_env = False
        if token_server is not None:
            token = token_server.make_token([{'type': 'repository', 'name': repo, 'actions': ['pull', 'push']}])
            session.headers['Authorization'] = f'Bearer {token}'
        resp = session.get(f'{registry_url}/v2/{repo}/manifests/{first.tag}',
                           headers={'Accept': MANIFEST_ACCEPT}, timeout=30)
        resp.raise_for_status()
        media_type = resp.headers['Content-Type']
        manifest = resp.json()
        for image in repo_images[1:]:
            variant = dict(manifest, annotations={'org.opencontainers.image.version': image.tag})
            resp = session.put(f'{registry_url}/v2/{repo}/manifests/{image.tag}',
                               data=json.dumps(variant, indent=2).encode(),
                               headers={'Content-Type': media_type}, timeout=30)
            if resp.status_code != 201:
                raise SystemExit(f'bench: PUT {repo}:{image.tag} answered {resp.status_code}: {resp.text[:300]}')
            out.append((image, resp.headers['Docker-Content-Digest']))
        session.close()
        return out

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return {image: digest for pairs in pool.map(one, by_repo.values()) for image, digest in pairs}


# --- the workload: a repository of Dockerfiles -------------------------------

class Workload(NamedTuple):
    files: list[str]  # relative paths
    unpinned: dict[str, str]  # path -> text, some references pinned, most not
    pinned: dict[str, str]  # path -> text, every reference pinned
    refs: int  # image references written (pinned or not)
    wanted_tags: int  # distinct tags among the references not yet pinned
    used_tags: int  # distinct tags among all references
    used_repos: int
    bytes: int
    files_per_tag: tuple[int, int]  # (most shared tag, median tag): how many files use it
    fully_pinned: int  # files whose every reference is already pinned


_RUN_LINES = (
    'RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \\\n'
    '    && rm -rf /var/lib/apt/lists/*',
    'RUN make -j"$(nproc)" build',
    'RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt',
    'RUN set -eux; \\\n    adduser --system --group app; \\\n    mkdir -p /srv/app',
    'RUN echo "building $VERSION" > /build-info',
)


def make_workload(images: Sequence[Image], digests: dict[Image, str], host: str,
                  files: int, seed: int) -> Workload:
    """``files`` Dockerfiles referencing every one of ``images`` at least once."""
    rng = random.Random(f'workload:{seed}:{files}:{len(images)}')
    # Reference slots per file: stages (FROM image), COPY --from=image, RUN --mount from=image.
    plans: list[list[int]] = []  # [stages, COPY --from=image?, RUN --mount from=image?]
    for _ in range(files):
        stages = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
        copy_from = rng.random() < 0.3
        mount_from = rng.random() < 0.1
        plans.append([stages, int(copy_from), int(mount_from)])

    def slots() -> int:
        return sum(p[0] + p[1] + p[2] for p in plans)
    while slots() < len(images):  # every tag must appear at least once
        rng.choice(plans)[0] += 1
    total = slots()
    # Every image once, then popularity-weighted draws: popular tags are shared by many files.
    order = list(images)
    rng.shuffle(order)
    weights = [1 / (rank + 1) ** ZIPF_S for rank in range(len(order))]
    assigned = order + rng.choices(order, weights=weights, k=total - len(order))
    rng.shuffle(assigned)
    it = iter(assigned)

    names = ('Dockerfile',) * 8 + ('Containerfile', 'Dockerfile.build')
    paths, unpinned, pinned = [], {}, {}
    wanted: set[Image] = set()
    nbytes = 0
    users: dict[Image, set[int]] = {}
    for n, (stages, copies, mounts) in enumerate(plans):
        path = f'svc{n // 100:03d}/app{n:05d}/{names[rng.randrange(len(names))]}'
        a_lines: list[str] = []  # the file as committed (some refs pinned)
        b_lines: list[str] = []  # the file once pinned

        def ref(image: Image) -> tuple[str, str]:
            users.setdefault(image, set()).add(n)
            plain = f'{host}/{image.repo}:{image.tag}'
            full = f'{plain}@{digests[image]}'
            if rng.random() < PINNED_SHARE:
                return full, full
            wanted.add(image)
            return plain, full

        def both(line: str) -> None:
            a_lines.append(line)
            b_lines.append(line)

        both(f'# {path}: generated by bench/run.py (seed {seed})')
        if rng.random() < 0.3:
            both('ARG VERSION=1.0.0')
        for s in range(stages):
            a, b = ref(next(it))
            last = s == stages - 1
            platform_flag = '--platform=$BUILDPLATFORM ' if not last and rng.random() < 0.3 else ''
            alias = '' if last else f' AS stage{s}'
            a_lines.append(f'FROM {platform_flag}{a}{alias}')
            b_lines.append(f'FROM {platform_flag}{b}{alias}')
            both('WORKDIR /src' if s == 0 else f'COPY --from=stage{s - 1} /out /in')
            if s == 0:
                both('COPY . .')
            both(rng.choice(_RUN_LINES))
            if last and copies:
                a, b = ref(next(it))
                a_lines.append(f'COPY --from={a} /etc/ssl/certs /etc/ssl/certs')
                b_lines.append(f'COPY --from={b} /etc/ssl/certs /etc/ssl/certs')
            if last and mounts:
                a, b = ref(next(it))
                a_lines.append(f'RUN --mount=type=bind,from={a},source=/usr/bin,target=/mnt ls /mnt')
                b_lines.append(f'RUN --mount=type=bind,from={b},source=/usr/bin,target=/mnt ls /mnt')
            if not last:
                both('RUN mkdir -p /out && cp -r . /out')
        both('USER 65534')
        both('CMD ["/srv/app/run"]')
        paths.append(path)
        unpinned[path] = '\n'.join(a_lines) + '\n'
        pinned[path] = '\n'.join(b_lines) + '\n'
        nbytes += len(unpinned[path])
    shares = sorted(len(u) for u in users.values())
    return Workload(
        paths, unpinned, pinned, total, len(wanted), len(set(assigned)),
        len({i.repo for i in assigned}), nbytes, (shares[-1], shares[len(shares) // 2]),
        sum(unpinned[p] == pinned[p] for p in paths),
    )


_COMPOSE = """\
# {path}: generated by bench/run.py (seed {seed})
services:
  web:
    image: {a}
    ports:
      - "8080:80"
    depends_on: [worker]
  worker:
    image: "{b}"
    command: ["run", "--queue", "default"]
    environment:
      LOG_LEVEL: info
"""
_K8S = """\
# {path}: generated by bench/run.py (seed {seed})
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{n}
  labels: {{app: app{n}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: app{n}}}
  template:
    metadata:
      labels: {{app: app{n}}}
    spec:
      initContainers:
        - name: migrate
          image: {a}
          args: ["migrate"]
      containers:
        - name: app
          image: {b}
          ports:
            - containerPort: 8080
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: app{n}
spec:
  selector: {{app: app{n}}}
  ports:
    - port: 80
      targetPort: 8080
"""


_HELM = """\
# {path}: generated by bench/run.py (seed {seed})
replicaCount: 2
image: {a}
sidecars:
  - name: metrics
    sidecarImage: "{b}"
podAnnotations: {{}}
"""
_CHART = 'apiVersion: v2\nname: app{n}\nversion: 1.0.0\n'
_KUSTOMIZE = """\
# {path}: generated by bench/run.py (seed {seed})
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../base]
images:
  - name: {a_name}
    newTag: "{a_tag}"
  - name: {b_name}
    newTag: "{b_tag}"
"""
_CIRCLECI = """\
# {path}: generated by bench/run.py (seed {seed})
version: 2.1
jobs:
  test:
    docker:
      - image: {a}
      - image: {b}
    steps: [checkout]
"""
_MIXED = (  # kind, path under the app's directory, template
    ('compose', 'compose.yaml', _COMPOSE), ('kubernetes', 'k8s/deployment.yaml', _K8S),
    ('helm', 'chart/values.yaml', _HELM), ('kustomize', 'overlays/prod/kustomization.yaml', _KUSTOMIZE),
    ('circleci', '.circleci/config.yml', _CIRCLECI),
)


def make_mixed(images: Sequence[Image], digests: dict[Image, str], host: str,
               files: int, seed: int, share: float) -> tuple[Workload, dict[str, int]]:
    """``files`` files: Dockerfiles (make_workload) and, for ``share`` of them, Compose
    files, Kubernetes manifests, Helm values, kustomizations and CircleCI configs (a fifth
    each), two image references per YAML file, drawn with the same popularity; (workload,
    files per kind)."""
    yaml_files = int(files * share)
    docker = make_workload(images, digests, host, files - yaml_files, seed)
    rng = random.Random(f'mixed:{seed}:{files}:{len(images)}')
    order = list(images)
    rng.shuffle(order)
    weights = [1 / (rank + 1) ** ZIPF_S for rank in range(len(order))]
    unpinned, pinned = dict(docker.unpinned), dict(docker.pinned)
    refs = docker.refs
    per_kind = {'dockerfile': len(docker.files), **{kind: 0 for kind, _, _ in _MIXED}}
    found: list[tuple[str, str, str]] = []  # (repository, tag, '@' when committed pinned)
    for n in range(yaml_files):
        kind, name, template = _MIXED[n % len(_MIXED)]
        path = f'yaml{n // 100:03d}/app{n:05d}/{name}'
        pair = rng.choices(order, weights=weights, k=2)
        plain = [f'{host}/{i.repo}:{i.tag}' for i in pair]
        full = [f'{p}@{digests[i]}' for p, i in zip(plain, pair)]
        keep = [rng.random() < PINNED_SHARE for _ in pair]
        committed = [f if k else p for p, f, k in zip(plain, full, keep)]
        found += [(i.repo, i.tag, '@' if k else '') for i, k in zip(pair, keep)]
        if kind == 'kustomize':  # a reference in parts: the tag becomes tag@digest
            names = {f'{x}_name': f'{host}/{i.repo}' for x, i in zip('ab', pair)}
            unpinned[path] = template.format(path=path, seed=seed, **names, **{
                f'{x}_tag': f'{i.tag}@{digests[i]}' if k else i.tag for x, i, k in zip('ab', pair, keep)})
            pinned[path] = template.format(path=path, seed=seed, **names, **{
                f'{x}_tag': f'{i.tag}@{digests[i]}' for x, i in zip('ab', pair)})
        else:
            unpinned[path] = template.format(path=path, seed=seed, n=n, a=committed[0], b=committed[1])
            pinned[path] = template.format(path=path, seed=seed, n=n, a=full[0], b=full[1])
        if kind == 'helm':  # values are a chart's only beside its Chart.yaml (a file of no images)
            chart = path.rsplit('/', 1)[0] + '/Chart.yaml'
            unpinned[chart] = pinned[chart] = _CHART.format(n=n)
        per_kind[kind] += 1
        refs += 2
    paths = list(unpinned)
    token = re.compile(re.escape(host) + r'/([\w/]+):([\w.-]+)(@?)')
    found += [m.groups() for p in docker.files for m in token.finditer(unpinned[p])]
    wanted = {(r, t) for r, t, at in found if not at}
    return Workload(
        paths, unpinned, pinned, refs, len(wanted), len({(r, t) for r, t, _ in found}),
        len({r for r, _, _ in found}),
        sum(len(t) for t in unpinned.values()), docker.files_per_tag,
        sum(unpinned[p] == pinned[p] for p in paths),
    ), per_kind


def write_tree(root: Path, texts: dict[str, str]) -> None:
    for path, text in texts.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def tree_mismatches(root: Path, expected: dict[str, str]) -> int:
    return sum((root / p).read_text() != t for p, t in expected.items())


# --- running and measuring ----------------------------------------------------

class Sample(NamedTuple):
    wall: float  # seconds
    rss: int  # peak resident set size, KiB
    rc: int


TIME = '/usr/bin/time'  # GNU time: peak RSS of exactly the measured process


def run_once(argv: Sequence[str], cwd: Path, env: dict[str, str],
             stdout: Optional[Path] = None, rss: bool = False, timeout: float = 600) -> Sample:
    """One fresh process: its wall time and, with ``rss``, its peak RSS.

    The peak RSS comes from GNU time (``%M``), not from ``os.wait4`` or
    ``RUSAGE_CHILDREN`` here: a child forked from this (large) process starts
    with this process's resident pages, and the kernel keeps that high-water mark
    across exec, so it would report the bench's own size. ``time`` is a small C
    program, so its children start small. It adds about a millisecond, so the
    short runs are timed without it and measured for RSS in a separate run.
    """
    rss_file = None
    if rss and os.access(TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix='rss-')
        os.close(fd)
        argv = [TIME, '-f', '%M', '-o', rss_file, *argv]
    out = open(stdout, 'wb') if stdout else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT if stdout else subprocess.DEVNULL)
        # A blocking wait: Popen.wait(timeout=...) polls with sleeps growing to 50 ms,
        # which would round every wall time up to its schedule (64, 114, 164... ms).
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            rc = proc.wait()
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        if rc == -signal.SIGKILL:
            raise SystemExit(f'bench: {argv} did not finish in {timeout:.0f}s')
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    kib = -1
    if rss_file:
        try:
            kib = int(Path(rss_file).read_text().split()[-1])
        except (ValueError, IndexError):
            kib = -1
        os.unlink(rss_file)
    return Sample(wall, kib, rc)


def median(samples: Iterable[Sample]) -> float:
    return statistics.median(s.wall for s in samples)


def peak(samples: Iterable[Sample]) -> int:
    return max((s.rss for s in samples), default=-1)


class Counts(NamedTuple):
    heads: int
    distinct_heads: int
    gets_manifest: int
    v2_probes: int
    other: int
    tokens: int
    token_repos: int
    connections: int
    statuses: dict[int, int]


class Net:
    """The registry (and token server) behind latency proxies, with request counting."""

    def __init__(self, registry: RegistryServer, proxy_log: Path, host: str,
                 token_server: Optional[TokenServer] = None) -> None:
        self.registry = registry
        self.proxy_log = proxy_log
        self.host = host
        self.token_server = token_server

    def mark(self) -> tuple[int, int, int]:
        return (len(self.registry.requests_log()), self._connections(),
                len(self.token_server.token_requests()) if self.token_server else 0)

    def _connections(self) -> int:
        try:
            return sum(1 for line in self.proxy_log.read_text().splitlines() if line.startswith('open '))
        except FileNotFoundError:
            return 0

    def since(self, mark: tuple[int, int, int]) -> Counts:
        log = self.registry.requests_log(mark[0])
        heads = [e['uri'] for e in log if e['method'] == 'HEAD' and '/manifests/' in e['uri']]
        gets = [e for e in log if e['method'] == 'GET' and '/manifests/' in e['uri']]
        probes = [e for e in log if e['uri'].rstrip('/') == '/v2']
        other = len(log) - len(heads) - len(gets) - len(probes)
        tokens = self.token_server.token_requests()[mark[2]:] if self.token_server else []
        scopes = {s for t in tokens for s in t.query.get('scope', [])}
        return Counts(
            len(heads), len(set(heads)), len(gets), len(probes), other, len(tokens), len(scopes),
            self._connections() - mark[1], dict(Counter(e['status'] for e in log)),
        )


def start_proxy(work: Path, target: str, delay: float, name: str, lifetime: float) -> tuple[subprocess.Popen[bytes], int, Path]:
    port_file = work / f'{name}.port'
    log = work / f'{name}.log'
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / 'bench' / 'latency_proxy.py'), '--target', target,
         '--delay', str(delay), '--port-file', str(port_file), '--log', str(log),
         '--lifetime', str(lifetime)],
        stdin=subprocess.DEVNULL, stderr=open(work / f'{name}.stderr', 'wb'),  # noqa: SIM115
    )
    deadline = time.monotonic() + 10
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f'bench: the latency proxy for {target} did not start')
        time.sleep(0.01)
    return proc, int(port_file.read_text()), log


def stop(proc: Optional[subprocess.Popen[bytes]]) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def clean_env(work: Path) -> dict[str, str]:
    """The environment for the tools: no proxy, no user cache or credentials."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith('_proxy') and not k.startswith(('PIN_FROM_', 'DOCKER_', 'PYTHON'))}
    docker_config = work / 'docker-config'
    docker_config.mkdir(exist_ok=True)
    env['DOCKER_CONFIG'] = str(docker_config)  # pindock: no real credentials
    env['XDG_CACHE_HOME'] = str(work / 'xdg-cache')  # pin-from: never the user's cache
    env['HOME'] = str(work / 'home')
    (work / 'home').mkdir(exist_ok=True)
    return env


def install_pindock(work: Path, spec: str) -> tuple[Optional[str], str]:
    """(path of pindock's Go binary, version) -- pip install into a venv of its own."""
    venv = work / 'pindock-venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    py = venv / 'bin' / 'python'
    proc = subprocess.run([str(py), '-m', 'pip', 'install', '-q', '--disable-pip-version-check', spec],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f'bench: pip install {spec} failed:\n{proc.stderr[-2000:]}', file=sys.stderr)
        return None, ''
    info = subprocess.run(
        [str(py), '-c', 'import importlib.metadata as m, pathlib, pindock;'
         'print(pathlib.Path(pindock.__file__).parent / "bin" / "pindock");'
         'print(m.version("pindock"))'],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    binary = Path(info[0])
    binary.chmod(0o755)
    return str(binary), info[1]


def install_pin_from(work: Path) -> tuple[Path, str, float]:
    """pin-from as pre-commit installs a hook: a fresh venv, ``pip install <repo>``.

    Not editable: an editable install's interpreter runs setuptools' finder
    hook at every start (about 20 ms here), which would flatter every ratio.
    The checkout's files are copied first (pip would otherwise leave build/ in
    it). Returns (venv bin directory, where pin_from is imported from, seconds).
    """
    t = time.monotonic()
    src = work / 'pin-from-src'
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*SOURCE_IGNORE))
    venv = work / 'pin-from-venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    proc = subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', 'install', '-q',
                           '--disable-pip-version-check', str(src)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f'bench: pip install {src} failed:\n{proc.stderr[-2000:]}')
    where = subprocess.run([str(venv / 'bin' / 'python'), '-c', 'import pin_from; print(pin_from.__file__)'],
                           cwd=work, capture_output=True, text=True, check=True).stdout.strip()
    if 'site-packages' not in where:
        raise SystemExit(f'bench: the regular install imports pin_from from {where}')
    return venv / 'bin', where, time.monotonic() - t


# --- the benchmark ---------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.set_venv(Path(args.venv or ROOT / '.venv') / 'bin')
        editable = ROOT / '.venv' / 'bin' / 'python'
        self.editable_python = str(editable) if editable.exists() else None  # the footnote baseline
        self.env = clean_env(work)
        self.pindock: Optional[str] = None
        self.pindock_version = ''
        self.results: dict[str, Any] = {}
        self._n = 0

    def set_venv(self, bindir: Path) -> None:
        self.python = str(bindir / 'python')
        self.pin_from = str(bindir / 'pin-from')

    def fresh(self, name: str) -> Path:
        self._n += 1
        path = self.work / 'runs' / f'{self._n:04d}-{name}'
        path.mkdir(parents=True)
        return path

    def log(self, msg: str) -> None:
        print(f'[{time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)

    # tools

    def pin_argv(self, files: Sequence[str], cache: Path, *extra: str) -> list[str]:
        return [self.pin_from, '--cache-dir', str(cache), *extra, *files]

    def pindock_argv(self, files: Sequence[str]) -> list[str]:
        assert self.pindock is not None
        return [self.pindock, 'run', *files]

    def cold(self, net: Net, wl: Workload, tool: str, repeats: int,
             jobs: Optional[int] = None) -> tuple[list[Sample], list[Counts], int]:
        """Fresh copy + empty cache each time; (samples, request counts, files left wrong)."""
        samples, counts, wrong = [], [], 0
        for _ in range(repeats):
            tree = self.fresh(f'cold-{tool}')
            write_tree(tree, wl.unpinned)
            if tool == 'pin-from':
                extra = ('--jobs', str(jobs)) if jobs else ()
                argv = self.pin_argv(wl.files, self.fresh('cache'), *extra)
            else:
                argv = self.pindock_argv(wl.files)
            mark = net.mark()
            sample = run_once(argv, tree, self.env, stdout=tree.parent / f'{tree.name}.out', rss=True)
            counts.append(net.since(mark))
            samples.append(sample)
            wrong += tree_mismatches(tree, wl.pinned)
            if sample.rc not in (0, 1):
                raise SystemExit(f'bench: {argv[0]} exited {sample.rc}; see {tree.parent / (tree.name + ".out")}')
            shutil.rmtree(tree)
        return samples, counts, wrong

    def warm_cache(self, net: Net, wl: Workload) -> Path:
        """A cache holding every answer the workload needs (filled by one pin-from run)."""
        cache = self.fresh('warm-cache')
        tree = self.fresh('fill')
        write_tree(tree, wl.unpinned)
        sample = run_once(self.pin_argv(wl.files, cache), tree, self.env)
        if sample.rc not in (0, 1) or tree_mismatches(tree, wl.pinned):
            raise SystemExit(f'bench: filling the cache did not pin every file (exit {sample.rc}, '
                             f'{tree_mismatches(tree, wl.pinned)} files differ; see {tree})')
        shutil.rmtree(tree)
        return cache

    def warm_set(self, net: Net, wl: Workload, repeats: int, baseline: bool, writes: bool) -> dict[str, Any]:
        """Baseline, steady and warm runs, interleaved so drift hits them alike."""
        cache = self.warm_cache(net, wl)
        steady_tree = self.fresh('steady')
        write_tree(steady_tree, wl.pinned)
        warm_tree = self.fresh('warm')
        write_tree(warm_tree, wl.unpinned)
        base, base_e, steady, warm, warm_w = [], [], [], [], []
        steady_first, warm_first = [], []  # with no steady record (pin_from/steady.py): the whole run
        records = cache / 'steady'
        mark = net.mark()
        for i in range(repeats):
            if baseline:
                base.append(run_once([self.python, '-c', 'pass'], self.work, self.env))
                if self.editable_python and self.editable_python != self.python:
                    base_e.append(run_once([self.editable_python, '-c', 'pass'], self.work, self.env))
            shutil.rmtree(records, ignore_errors=True)
            sf = run_once(self.pin_argv(wl.files, cache), steady_tree, self.env)
            s = run_once(self.pin_argv(wl.files, cache), steady_tree, self.env)
            shutil.rmtree(records, ignore_errors=True)
            wf = run_once(self.pin_argv(wl.files, cache, '--check'), warm_tree, self.env,
                          stdout=self.work / 'warm-first.out' if i == 0 else None)
            w = run_once(self.pin_argv(wl.files, cache, '--check'), warm_tree, self.env,
                         stdout=self.work / 'warm.out' if i == 0 else None)
            if s.rc != 0 or w.rc != 1 or sf.rc != 0 or wf.rc != 1:
                raise SystemExit(f'bench: steady exited {sf.rc}, then {s.rc} (want 0), warm --check {wf.rc}, '
                                 f'then {w.rc} (want 1); see {self.work / "warm.out"}')
            if i == 0 and (self.work / 'warm-first.out').read_bytes() != (self.work / 'warm.out').read_bytes():
                raise SystemExit('bench: a warm --check from the steady record said something else than the '
                                 f'whole run; compare {self.work / "warm-first.out"} with {self.work / "warm.out"}')
            steady.append(s)
            warm.append(w)
            steady_first.append(sf)
            warm_first.append(wf)
            if writes and i < self.args.repeats:
                tree = self.fresh('warm-write')
                write_tree(tree, wl.unpinned)
                warm_w.append(run_once(self.pin_argv(wl.files, cache), tree, self.env))
                if tree_mismatches(tree, wl.pinned):
                    raise SystemExit('bench: warm run with writes left files unpinned')
                shutil.rmtree(tree)
        # Peak RSS: one more run of each, under GNU time (steady again first: the loop's last
        # step removed its record before the first warm run).
        run_once(self.pin_argv(wl.files, cache), steady_tree, self.env)
        rss = {
            'baseline': [run_once([self.python, '-c', 'pass'], self.work, self.env, rss=True)] if baseline else [],
            'steady': [run_once(self.pin_argv(wl.files, cache), steady_tree, self.env, rss=True)],
            'warm': [run_once(self.pin_argv(wl.files, cache, '--check'), warm_tree, self.env, rss=True)],
            # The floor: the same interpreter, the same arguments, pin_from.pin imported, nothing done.
            'floor': [run_once([self.python, '-c', 'import pin_from.pin', *wl.files], steady_tree, self.env,
                               rss=True)],
        }
        if writes:
            tree = self.fresh('warm-write')
            write_tree(tree, wl.unpinned)
            rss['warm_write'] = [run_once(self.pin_argv(wl.files, cache), tree, self.env, rss=True)]
            shutil.rmtree(tree)
        quiet = net.since(mark)
        if tree_mismatches(steady_tree, wl.pinned):
            raise SystemExit('bench: the steady-state run changed files')
        return {'baseline': base, 'baseline_editable': base_e, 'steady': steady, 'warm': warm, 'warm_write': warm_w,
                'steady_first': steady_first, 'warm_first': warm_first,
                'rss': rss, 'requests': quiet, 'cache': cache, 'steady_tree': steady_tree, 'warm_tree': warm_tree}

    def imports(self, argv: Sequence[str], cwd: Path) -> dict[str, Any]:
        """Which modules a run imports (PYTHONPROFILEIMPORTTIME), and the biggest ones."""
        env = dict(self.env, PYTHONPROFILEIMPORTTIME='1')
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        rows = []
        for line in proc.stderr.splitlines():
            if not line.startswith('import time:') or 'self [us]' in line:
                continue
            parts = line.split(':', 1)[1].split('|')
            self_us, cum_us, name = parts[0].strip(), parts[1].strip(), parts[2][1:]
            depth = (len(name) - len(name.lstrip(' '))) // 2
            rows.append((name.strip(), int(self_us), int(cum_us), depth))
        names = {r[0] for r in rows}
        top = sorted((r for r in rows if r[3] == 0), key=lambda r: -r[2])[:8]
        return {
            'heavy': [m for m in HEAVY_MODULES if m in names],
            'by': {m: importer(rows, m) for m in HEAVY_MODULES if m in names},
            'count': len(rows),
            'total_ms': sum(r[1] for r in rows) / 1000,
            'top': [(n, c / 1000) for n, _, c, _ in top],
            'self_top': [(n, s / 1000) for n, s, _, _ in sorted(rows, key=lambda r: -r[1])[:8]],
            'rc': proc.returncode,
        }


def importer(rows: list[tuple[str, int, int, int]], module: str) -> str:
    """The module whose import first imported ``module`` (importtime lists children
    before their parent, one level deeper), or 'top level'."""
    for i, (name, _, _, depth) in enumerate(rows):
        if name == module:
            return next((r[0] for r in rows[i + 1:] if r[3] < depth), 'a call at run time')
    return '-'


def fmt_s(x: float) -> str:
    return f'{x * 1000:.0f} ms' if x < 10 else f'{x:.1f} s'


def fmt_spread(samples: list[Sample]) -> str:
    """Median, and the range when there are several runs."""
    walls = [x.wall for x in samples]
    if len(walls) < 2:
        return fmt_s(walls[0])
    return f'{fmt_s(statistics.median(walls))} ({fmt_s(min(walls))}-{fmt_s(max(walls))})'


def fmt_mb(kib: int) -> str:
    return f'{kib / 1024:.0f} MB' if kib >= 0 else 'n/a'


def describe(c: Counts, wl: Workload) -> str:
    return (f'{c.heads} HEAD ({c.distinct_heads} distinct; {wl.wanted_tags} tags to look up), '
            f'{c.gets_manifest} manifest GET, {c.v2_probes} /v2/, {c.tokens} token, '
            f'{c.other} other, {c.connections} connections')


def table(rows: list[list[str]], header: list[str]) -> str:
    out = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _ in header) + '|']
    out += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description='pin-from benchmark (issue 6); see bench/README.md')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--files', type=int, default=1000, help='files in the main workload')
    parser.add_argument('--tags', type=int, default=200, help='distinct tags in the main workload')
    parser.add_argument('--delay', type=float, default=0.025, help='latency each way, seconds')
    parser.add_argument('--repeats', type=int, default=DEFAULT_REPEATS, help='runs per measurement (median)')
    parser.add_argument('--quick', action='store_true',
                        help='fewer repeats, no 10,000-file or 2,000-tag cells, no token-auth run')
    parser.add_argument('--no-pindock', action='store_true')
    parser.add_argument('--no-scale', action='store_true')
    parser.add_argument('--no-token', action='store_true', help='skip the token-auth registry run')
    parser.add_argument('--pindock', default='pindock', metavar='PIP_SPEC',
                        help='what to pip install for the comparison (default: pindock)')
    parser.add_argument('--venv',
                        help="measure the pin-from of this virtualenv (its python is the baseline) instead "
                             "of a regular install made for the run (a fresh venv, pip install <checkout>)")
    parser.add_argument('--mixed-share', type=float, default=0.4, metavar='SHARE',
                        help='share of Compose and Kubernetes files in the mixed workload (default 0.4)')
    parser.add_argument('--work', help='work directory (default: a new temporary one, removed after)')
    parser.add_argument('--keep', action='store_true', help='keep the work directory')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--serve', type=float, metavar='SECONDS',
                        help='set up the registry, proxy and main workload, print how to run the tools '
                             'on them (to profile by hand), wait SECONDS (or Ctrl-C), clean up; no measurements')
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 3)

    # A TERM (or an INT while in the background) cleans up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    work = Path(args.work or tempfile.mkdtemp(prefix='pin-from-bench-'))
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, work)
    procs: list[subprocess.Popen[bytes]] = []
    registries: list[Any] = []
    try:
        return _main(args, bench, work, procs, registries, started)
    finally:
        for p in procs:
            stop(p)
        for r in registries:
            r.stop()
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f'bench: work directory kept: {work}', file=sys.stderr)


def _main(args: argparse.Namespace, bench: Bench, work: Path, procs: list[Any],
          registries: list[Any], started: float) -> int:
    log = bench.log
    install = {'kind': 'given --venv', 'where': '', 'seconds': 0.0}
    if not args.venv:
        log('installing pin-from the way pre-commit does: a fresh venv, pip install <checkout> (not editable)')
        bindir, where, seconds = install_pin_from(work)
        bench.set_venv(bindir)
        install = {'kind': 'regular (pip install <checkout>)', 'where': where, 'seconds': seconds}
        log(f'installed in {seconds:.1f}s; pin_from imported from {where}')
    if not Path(bench.pin_from).exists():
        raise SystemExit(f'bench: {bench.pin_from} not found')

    # Cells of the scale table: (files, tags).
    cells = [(100, args.tags), (args.files, args.tags), (10 * args.files, args.tags),
             (args.files, args.tags // 10), (args.files, 10 * args.tags)]
    if args.quick:
        cells = [c for c in cells if c[0] <= args.files and c[1] <= args.tags]
    if args.no_scale or args.serve:
        cells = [(args.files, args.tags)]
    cells = list(dict.fromkeys(c for c in cells if c[1] >= 1 and c[0] >= 1))
    max_tags = max(t for _, t in cells)
    lifetime = 3600.0

    if not args.no_pindock:
        log(f'installing {args.pindock} into a venv under {work}')
        t = time.monotonic()
        bench.pindock, bench.pindock_version = install_pindock(work, args.pindock)
        log(f'pindock {bench.pindock_version or "NOT INSTALLED"} in {time.monotonic() - t:.1f}s')

    # The plain registry, its content, its proxy.
    registry = RegistryServer(work).start()
    registries.append(registry)
    images = catalog(max_tags, args.seed)
    log(f'pushing {len(images)} tags ({sum(i.platforms == 2 for i in images)} two-platform) '
        f'in {len({i.repo for i in images})} repositories to {registry.url}')
    t = time.monotonic()
    digests = push_catalog(registry.url, images, args.seed)
    push_time = time.monotonic() - t
    log(f'pushed in {push_time:.1f}s')
    proxy, port, proxy_log = start_proxy(work, registry.host, args.delay, 'proxy', lifetime)
    procs.append(proxy)
    host = f'127.0.0.1:{port}'
    net = Net(registry, proxy_log, host)
    log(f'latency proxy {host} -> {registry.host}, {args.delay * 1000:.0f} ms each way')

    res: dict[str, Any] = {
        'load_before': os.getloadavg(), 'machine': machine(), 'seed': args.seed, 'delay_ms': args.delay * 1000,
        'repeats': args.repeats, 'push_seconds': push_time, 'pushed_tags': len(images),
        'pin_from': pin_from_version(), 'pindock': bench.pindock_version, 'source': source_hash(),
    }

    # --- the main workload ---
    main_images = images[:args.tags]
    wl = make_workload(main_images, digests, host, args.files, args.seed)
    res['workload'] = {'files': len(wl.files), 'refs': wl.refs, 'tags': wl.used_tags,
                       'tags_to_look_up': wl.wanted_tags, 'repos': wl.used_repos, 'bytes': wl.bytes}
    log(f'workload: {len(wl.files)} files, {wl.refs} references, {wl.used_tags} distinct tags '
        f'({wl.wanted_tags} not yet pinned somewhere) in {wl.used_repos} repositories')

    if args.serve:
        return serve(bench, net, wl, args.serve)

    log('baseline, steady and warm runs (interleaved)')
    ws = bench.warm_set(net, wl, max(15, 3 * args.repeats) if not args.quick else 3 * args.repeats,
                        baseline=True, writes=True)
    res['imports'] = {
        'baseline': bench.imports([bench.python, '-c', 'pass'], work),
        'steady': bench.imports(bench.pin_argv(wl.files, ws['cache']), ws['steady_tree']),
        'warm': bench.imports(bench.pin_argv(wl.files, ws['cache'], '--check'), ws['warm_tree']),
        # What issue 11 asks for by name: one pinned file, `python -X importtime -m pin_from.pin --check`,
        # from the tree (not the checkout, where -m would import the checkout's pin_from).
        'one': bench.imports([bench.python, '-X', 'importtime', '-m', 'pin_from.pin', '--cache-dir',
                              str(ws['cache']), '--check', wl.files[0]], ws['steady_tree']),
    }

    log('cold runs: pin-from and pindock, alternating')
    cold_pf: list[Sample] = []
    cold_pd: list[Sample] = []
    counts_pf: list[Counts] = []
    counts_pd: list[Counts] = []
    wrong_pf = wrong_pd = 0
    for _ in range(args.repeats):
        s, c, w = bench.cold(net, wl, 'pin-from', 1)
        cold_pf += s
        counts_pf += c
        wrong_pf += w
        if bench.pindock:
            s, c, w = bench.cold(net, wl, 'pindock', 1)
            cold_pd += s
            counts_pd += c
            wrong_pd += w

    # --- mixed: Dockerfiles, Compose files, Kubernetes manifests ---
    mixed: dict[str, Any] = {}
    if args.mixed_share > 0:
        mwl, per_kind = make_mixed(main_images, digests, host, args.files, args.seed, args.mixed_share)
        log(f'mixed workload: {per_kind}, {mwl.refs} references')
        mws = bench.warm_set(net, mwl, max(9, args.repeats) if not args.quick else args.repeats,
                             baseline=True, writes=True)
        mixed = {
            'workload': mwl, 'kinds': per_kind, 'warm_set': mws,
            'cold': bench.cold(net, mwl, 'pin-from', max(1, min(3, args.repeats))),
            'imports': {
                'steady': bench.imports(bench.pin_argv(mwl.files, mws['cache']), mws['steady_tree']),
                'warm': bench.imports(bench.pin_argv(mwl.files, mws['cache'], '--check'), mws['warm_tree']),
            },
        }

    # --- token auth ---
    token: dict[str, Any] = {}
    if not args.no_token and not args.quick:
        log('token-auth registry: pushing the main workload tags, then cold runs')
        ts = TokenServer(work).start()
        registries.append(ts)
        tproxy, tport, tlog = start_proxy(work, ts.realm.split('/')[2], args.delay, 'token-proxy', lifetime)
        procs.append(tproxy)
        treg = RegistryServer(work, auth='token', token_server=ts)
        # The registry sends clients to the token server through a latency proxy of its own.
        # The realm names it "localhost", not 127.0.0.1: go-containerregistry (pindock) refuses
        # a realm whose host is a private or loopback IP literal ("invalid realm in
        # www-authenticate: realm host "127.0.0.1" is a private or link-local address").
        ts.realm = f'http://localhost:{tport}/token'
        treg.start()
        registries.append(treg)
        push_catalog(treg.url, main_images, args.seed, token_server=ts)
        ts.reset_requests()
        rproxy, rport, rlog = start_proxy(work, treg.host, args.delay, 'token-registry-proxy', lifetime)
        procs.append(rproxy)
        thost = f'127.0.0.1:{rport}'
        tnet = Net(treg, rlog, thost, token_server=ts)
        twl = make_workload(main_images, {i: digests[i] for i in main_images}, thost, args.files, args.seed)
        reps = max(1, min(3, args.repeats))
        s, c, w = bench.cold(tnet, twl, 'pin-from', reps)
        token['pin-from'] = (s, c, w)
        if bench.pindock:
            s, c, w = bench.cold(tnet, twl, 'pindock', reps)
            token['pindock'] = (s, c, w)
        token['workload'] = twl

    # --- scale ---
    scale = []
    for files, tags in cells:
        if (files, tags) == (args.files, args.tags):
            cwl, cws = wl, ws
            ccold = cold_pf
        else:
            log(f'scale cell: {files} files, {tags} tags')
            cwl = make_workload(images[:tags], digests, host, files, args.seed)
            reps = 1 if files > args.files or tags > args.tags else max(1, min(3, args.repeats))
            cws = bench.warm_set(net, cwl, reps, baseline=False, writes=False)
            ccold = bench.cold(net, cwl, 'pin-from', reps)[0]
        scale.append((files, tags, cwl, ccold, cws))

    # --- report ---
    base = median(ws['baseline'])
    steady = median(ws['steady'])
    warm = median(ws['warm'])
    warm_w = median(ws['warm_write'])
    pf = median(cold_pf)
    lines = []
    lines.append(f'- pin-from {res["pin_from"]} | pindock {bench.pindock_version or "-"} | '
                 f'{res["machine"]["cpu"]} x{res["machine"]["nproc"]} | Python {res["machine"]["python"]} | '
                 f'latency {args.delay * 1000:.0f} ms each way | seed {args.seed}')
    lines.append(f'- pin-from installed: {install["kind"]}, in {install["seconds"]:.0f}s; '
                 f'`pin_from` imported from `{install["where"] or bench.python}`')
    lines.append(f'- workload: {len(wl.files)} files ({wl.bytes / 1024:.0f} KiB; {wl.fully_pinned} already fully pinned), '
                 f'{wl.refs} image references ({PINNED_SHARE:.0%} already pinned), '
                 f'{wl.used_tags} distinct tags ({wl.wanted_tags} to look up; the most shared is in '
                 f'{wl.files_per_tag[0]} files, the median one in {wl.files_per_tag[1]}) in {wl.used_repos} repositories; '
                 f'{args.tags} tags pushed in {push_time:.1f}s ({len(images)} in all)')
    lines.append('')
    rows = [
        ['bare `python -c pass` of the regular install (baseline)', fmt_spread(ws['baseline']), '1.00x',
         fmt_mb(peak(ws['rss']['baseline']))],
        ['pin-from steady (all pinned)', fmt_spread(ws['steady']),
         f'**{steady / base:.2f}x** baseline (target <= 4)', fmt_mb(peak(ws['rss']['steady']))],
        ['pin-from warm `--check` (cached, not pinned)', fmt_spread(ws['warm']),
         f'**{warm / base:.2f}x** baseline', fmt_mb(peak(ws['rss']['warm']))],
        ['pin-from steady, first run (no steady record: the whole run)', fmt_spread(ws['steady_first']),
         f'{median(ws["steady_first"]) / base:.2f}x baseline', '-'],
        ['pin-from warm `--check`, first run (no steady record: the whole run)', fmt_spread(ws['warm_first']),
         f'{median(ws["warm_first"]) / base:.2f}x baseline', '-'],
        ['pin-from warm, writing the files', fmt_spread(ws['warm_write']),
         f'{warm_w / base:.2f}x baseline', fmt_mb(peak(ws['rss']['warm_write']))],
        ['pin-from cold (empty cache)', fmt_spread(cold_pf), f'{pf / base:.1f}x baseline', fmt_mb(peak(cold_pf))],
    ]
    if cold_pd:
        pd = median(cold_pd)
        rows.append(['pindock cold (no cache of its own)', fmt_spread(cold_pd),
                     f'pin-from/pindock = **{pf / pd:.2f}** (target <= 0.3)', fmt_mb(peak(cold_pd))])
    lines.append(table(rows, ['run', 'wall: median (min-max)', 'ratio of medians', 'peak RSS']))
    q = ws['requests']
    lines.append('')
    lines.append(f'steady + warm runs made {total_requests(q)} registry requests '
                 f'and opened {q.connections} connections (want 0). '
                 f'Of {"/".join(HEAVY_MODULES)}, steady imports '
                 f'{", ".join(res["imports"]["steady"]["heavy"]) or "none"}, '
                 f'warm imports {", ".join(res["imports"]["warm"]["heavy"]) or "none"}'
                 + ''.join(f' ({m} by {by})' for m, by in res['imports']['warm']['by'].items()) + '.')
    if ws['baseline_editable']:
        be = median(ws['baseline_editable'])
        lines.append('')
        lines.append(f'Footnote, not the baseline: the editable `.venv` interpreter starts in {fmt_spread(ws["baseline_editable"])} '
                     f'(setuptools\' editable finder); against it steady would read {steady / be:.2f}x '
                     f'and warm {warm / be:.2f}x.')
    lines.append('')
    if mixed:
        mwl, mws, kinds_ = mixed['workload'], mixed['warm_set'], mixed['kinds']
        mbase = median(mws['baseline'])
        mcold, _, mwrong = mixed['cold']
        mi = mixed['imports']
        lines.append(f'Mixed workload ({kinds_["dockerfile"]} Dockerfiles, {kinds_["compose"]} Compose files, '
                     f'{kinds_["kubernetes"]} Kubernetes manifests; {mwl.bytes / 1024:.0f} KiB, {mwl.refs} references, '
                     f'{mwl.wanted_tags} tags to look up), measured like the table above, against the same '
                     f'baseline run alongside it ({fmt_s(mbase)}):')
        lines.append('')
        mrows = [
            ['steady (all pinned)', fmt_spread(mws['steady']), f'**{median(mws["steady"]) / mbase:.2f}x**',
             fmt_mb(peak(mws['rss']['steady'])), ', '.join(mi['steady']['heavy']) or 'none'],
            ['warm `--check`', fmt_spread(mws['warm']), f'**{median(mws["warm"]) / mbase:.2f}x**',
             fmt_mb(peak(mws['rss']['warm'])), ', '.join(mi['warm']['heavy']) or 'none'],
            ['steady, first run (no record)', fmt_spread(mws['steady_first']),
             f'{median(mws["steady_first"]) / mbase:.2f}x', '-', '-'],
            ['warm `--check`, first run (no record)', fmt_spread(mws['warm_first']),
             f'{median(mws["warm_first"]) / mbase:.2f}x', '-', '-'],
            ['warm, writing', fmt_spread(mws['warm_write']), f'{median(mws["warm_write"]) / mbase:.2f}x',
             fmt_mb(peak(mws['rss']['warm_write'])), '-'],
            ['cold', fmt_spread(mcold), f'{median(mcold) / mbase:.1f}x', fmt_mb(peak(mcold)), '-'],
        ]
        lines.append(table(mrows, ['mixed run', 'wall: median (min-max)', 'ratio to baseline', 'peak RSS',
                                   'of the heavy modules, imports']))
        lines.append('')
        lines.append(f'Mixed: steady + warm made {total_requests(mws["requests"])} requests; files not pinned as '
                     f'expected after the cold runs: {mwrong}; PyYAML (`yaml`) imported by the steady run: '
                     f'{"yes" if "yaml" in mi["steady"]["heavy"] else "no"}, by warm `--check`: '
                     f'{"yes" if "yaml" in mi["warm"]["heavy"] else "no"}.')
        lines.append('')
    crow = [['pin-from', *count_cells(counts_pf, wl), str(wrong_pf)]]
    if counts_pd:
        crow.append(['pindock', *count_cells(counts_pd, wl), str(wrong_pd)])
    if token:
        twl = token['workload']
        for tool in ('pin-from', 'pindock'):
            if tool in token:
                s, c, w = token[tool]
                crow.append([f'{tool}, token auth ({fmt_s(median(s))})', *count_cells(c, twl), str(w)])
    lines.append(f'Cold-run requests, per run (from the registry access log, token server and proxy; '
                 f'{wl.wanted_tags} distinct tags to look up in {len({i.repo for i in main_images})} repositories):')
    lines.append('')
    lines.append(table(crow, ['tool', 'HEAD manifests', 'distinct HEADs', 'GET manifests', 'GET/HEAD /v2/',
                              'token requests (distinct scopes)', 'connections', 'non-2xx answers',
                              'files not pinned as expected (all runs)']))
    lines.append('')
    srows = []
    for files, tags, cwl, ccold, cws in scale:
        srows.append([f'{files:,}', f'{tags:,}', f'{cwl.refs:,}', f'{cwl.bytes / 1024:,.0f} KiB',
                      fmt_s(median(ccold)), fmt_s(median(cws['warm'])), fmt_s(median(cws['steady'])),
                      f'{fmt_mb(peak(ccold))} / {fmt_mb(peak(cws["rss"]["warm"]))} / {fmt_mb(peak(cws["rss"]["steady"]))}',
                      str(total_requests(cws['requests']))])
    lines.append('Scale (pin-from; cold = empty cache, warm = `--check` with every answer cached, '
                 'steady = all pinned):')
    lines.append('')
    lines.append(table(srows, ['files', 'tags', 'references', 'size', 'cold', 'warm', 'steady',
                               'peak RSS cold / warm / steady', 'requests in warm + steady runs']))
    lines.append('')
    cell = {(f, t): w for f, t, _, _, w in scale}
    small, big = cell.get((args.files, args.tags)), cell.get((10 * args.files, args.tags))
    if small and big:
        s1, s10 = peak(small['rss']['steady']), peak(big['rss']['steady'])
        f1, f10 = peak(small['rss']['floor']), peak(big['rss']['floor'])
        lines.append(f'Memory, steady: {fmt_mb(s10)} at {10 * args.files:,} files vs {fmt_mb(s1)} at {args.files:,}: '
                     f'**{s10 / s1:.2f}x** (target <= 1.2). The floor, the same interpreter given the same '
                     f'file names importing pin_from.pin and doing nothing, is {fmt_mb(f10)} vs {fmt_mb(f1)} '
                     f'({f10 / f1:.2f}x); above it pin-from adds {fmt_mb(s10 - f10)} vs {fmt_mb(s1 - f1)} '
                     f'({(s10 - f10) / max(1, s1 - f1):.2f}x).')
        lines.append('')
    imp = res['imports']
    lines.append(f'Import time (PYTHONPROFILEIMPORTTIME, one run): baseline {imp["baseline"]["count"]} modules '
                 f'{imp["baseline"]["total_ms"]:.0f} ms; steady {imp["steady"]["count"]} modules '
                 f'{imp["steady"]["total_ms"]:.0f} ms; warm {imp["warm"]["count"]} modules '
                 f'{imp["warm"]["total_ms"]:.0f} ms. Biggest in warm: '
                 + ', '.join(f'{n} {ms:.0f} ms' for n, ms in imp['warm']['top'][:6]) + '.')
    one = imp['one']
    lines.append(f'`python -X importtime -m pin_from.pin --check <one pinned file>` (regular install, exit '
                 f'{one["rc"]}): {one["count"]} modules, {one["total_ms"]:.0f} ms of imports; heavy: '
                 f'{", ".join(f"{m} (by {b})" for m, b in one["by"].items()) or "none"}. Top-level imports by '
                 'cumulative time: ' + ', '.join(f'{n} {ms:.1f} ms' for n, ms in one['top'][:8])
                 + '. Biggest by own time: ' + ', '.join(f'{n} {ms:.1f} ms' for n, ms in one['self_top'][:6]) + '.')
    if source_hash() != res['source']:
        lines.append('WARNING: pin_from/ changed while the bench ran; these numbers mix versions. '
                     'Run it on a checkout nobody edits meanwhile.')
    load = os.getloadavg()
    lines.append(f'Total bench time {time.monotonic() - started:.0f}s; load average (1 min) '
                 f'{res["load_before"][0]:.2f} before, {load[0]:.2f} after (other processes on the '
                 f'machine make the short runs noisier).')
    report = '\n'.join(lines)
    print(report)
    if args.json:
        Path(args.json).write_text(json.dumps({
            **res,
            'baseline': ws['baseline'], 'steady': ws['steady'], 'warm': ws['warm'],
            'steady_first': ws['steady_first'], 'warm_first': ws['warm_first'],
            'warm_write': ws['warm_write'], 'cold_pin_from': cold_pf, 'cold_pindock': cold_pd,
            'counts_pin_from': [c._asdict() for c in counts_pf],
            'counts_pindock': [c._asdict() for c in counts_pd],
            'scale': [{'files': f, 'tags': t, 'cold': c, 'warm': w['warm'], 'steady': w['steady'],
                       'rss': w['rss']} for f, t, _, c, w in scale],
            'baseline_editable': ws['baseline_editable'], 'install': install,
            'mixed': {'kinds': mixed['kinds'], 'steady': mixed['warm_set']['steady'],
                      'warm': mixed['warm_set']['warm'], 'baseline': mixed['warm_set']['baseline'],
                      'imports': mixed['imports']} if mixed else {},
            'report': report,
        }, indent=1, default=str))
    return 0


def serve(bench: Bench, net: Net, wl: Workload, seconds: float) -> int:
    cache = bench.warm_cache(net, wl)
    trees = {}
    for name, texts in (('unpinned', wl.unpinned), ('pinned', wl.pinned)):
        trees[name] = bench.work / name
        write_tree(trees[name], texts)
    files = bench.work / 'files.txt'
    files.write_text('\n'.join(wl.files) + '\n')
    print(f'''registry (through the latency proxy): {net.host}
trees: {trees['unpinned']} (as committed), {trees['pinned']} (all pinned); file list: {files}
warm cache: {cache}

steady:  cd {trees['pinned']} && xargs -a {files} {bench.pin_from} --cache-dir {cache}
warm:    cd {trees['unpinned']} && xargs -a {files} {bench.pin_from} --cache-dir {cache} --check
cold:    cp -r {trees['unpinned']} /tmp/x && cd /tmp/x && xargs -a {files} {bench.pin_from} --cache-dir $(mktemp -d)
profile: ... {bench.python} -m cProfile -s cumulative -m pin_from.pin --cache-dir {cache} --check $(cat {files})
pindock: cp -r {trees['unpinned']} /tmp/y && cd /tmp/y && xargs -a {files} {bench.pindock or 'pindock'} run
''', flush=True)
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass
    return 0  # main()'s finally stops the servers


def total_requests(c: Counts) -> int:
    return c.heads + c.gets_manifest + c.v2_probes + c.other + c.tokens


def count_cells(counts: list[Counts], wl: Workload) -> list[str]:
    def spread(values: list[int]) -> str:
        lo, hi = min(values), max(values)
        return str(lo) if lo == hi else f'{lo}-{hi}'
    return [
        spread([c.heads for c in counts]), spread([c.distinct_heads for c in counts]),
        spread([c.gets_manifest for c in counts]), spread([c.v2_probes for c in counts]),
        f'{spread([c.tokens for c in counts])} ({spread([c.token_repos for c in counts])})',
        spread([c.connections for c in counts]),
        spread([sum(n for status, n in c.statuses.items() if status >= 300) for c in counts]),
    ]


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return {'nproc': os.cpu_count(), 'cpu': cpu, 'python': platform.python_version(),
            'system': f'{platform.system()} {platform.release()}'}


def source_hash() -> str:
    """A hash of pin_from/'s sources: the bench warns if they change while it runs."""
    import hashlib
    h = hashlib.sha256()
    for path in sorted((ROOT / 'pin_from').glob('*.py')):
        h.update(path.name.encode() + b'\0' + path.read_bytes())
    return h.hexdigest()


def pin_from_version() -> str:
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--', 'pin_from'], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return f'{rev}{"+dirty" if dirty else ""}' if rev else 'unknown'
    except OSError:
        return 'unknown'


if __name__ == '__main__':
    raise SystemExit(main())
