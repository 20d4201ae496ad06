"""A real OCI registry on loopback, for tests, the demo script and the benchmark.

Everything here talks to Debian's ``docker-registry`` (the CNCF distribution
server, 2.8) over plain HTTP on 127.0.0.1, and to ``skopeo`` as an independent
oracle (``skopeo inspect`` prints the digest of the top-level manifest).  The
registry serves a tag pointing at an OCI index only when ``Accept`` lists the
index media type, so every request here sends the full list.

* :class:`RegistryServer` runs ``docker-registry serve`` (no auth, htpasswd or
  token auth) and parses its access log (every request, with its status).
* :class:`TokenServer` is a tiny Docker token endpoint signing RS256 JWTs.
* :func:`push_image` uploads small, deterministic, real OCI images (an index
  of per-platform manifests, or one manifest) over the HTTP API.

This module must not import pytest: it is also used outside the test suite.
"""
from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Iterable, Literal, Mapping, NamedTuple, Sequence, TypeVar

import bcrypt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'
DOCKER_MANIFEST_LIST = (
    'application/vnd.docker.distribution.manifest.list.v2+json'
)
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
# Without the index types a HEAD of a tag pointing at an index is a 404.
MANIFEST_ACCEPT = ', '.join(
    (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST),
)

# The one user of the authenticated test registries.
TEST_USER = 'alice'
TEST_PASSWORD = 's3cret-pass'
TEST_CREDS = (TEST_USER, TEST_PASSWORD)

TIMEOUT = 10.0
START_DEADLINE = 10.0
Platform = Sequence[str]  # (os, architecture) or (os, architecture, variant)
DEFAULT_PLATFORMS: tuple[Platform, ...] = (
    ('linux', 'amd64'), ('linux', 'arm64'),
)
_DEFAULT_PATH = (
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
)
_CREATED = '2024-01-01T00:00:00Z'


class RegistryHelperError(RuntimeError):
    """A test registry, token server or push that did not behave."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        port: int = sock.getsockname()[1]
        return port


def htpasswd_line(user: str, password: str) -> str:
    """One htpasswd entry, bcrypt at the cheapest cost Go accepts (4).

    The registry checks the hash on every request, so the default cost (12,
    about 0.2 s each) would make every authenticated request slow.
    """
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4))
    return f'{user}:{hashed.decode()}'


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def _sha256(data: bytes) -> str:
    return f'sha256:{hashlib.sha256(data).hexdigest()}'


class TokenRequest(NamedTuple):
    """One request the token server saw. Never holds a secret."""

    path: str
    query: dict[str, list[str]]
    has_authorization: bool
    user: str | None  # the Basic user name, only when the password matched
    status: int


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    server: _TokenHTTPServer

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        self.server.owner._handle(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # keep test output clean


class _TokenHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: TokenServer) -> None:
        self.owner = owner
        super().__init__(('127.0.0.1', 0), _TokenHandler)


_S = TypeVar('_S', bound='Service')


class Service:
    """A server of the tests: ``start()``/``stop()``, or a ``with`` block."""

    def start(self: _S) -> _S:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
    ) -> None:
        self.stop()


class TokenServer(Service):
    """The Docker token endpoint: ``GET /token?service=...&scope=...``.

    With ``users`` it demands matching HTTP Basic credentials (else 401) and
    grants what is asked; without, it hands anonymous tokens granting the
    asked actions found in ``anonymous_actions``.
    """

    def __init__(
            self,
            tmpdir: Path,
            users: Mapping[str, str] | None = None,
            *,
            service: str = 'test-registry',
            issuer: str = 'test-issuer',
            anonymous_actions: Iterable[str] = ('pull', 'push', 'delete'),
    ) -> None:
        self.users = dict(users) if users is not None else None
        self.service = service
        self.issuer = issuer
        self.anonymous_actions = frozenset(anonymous_actions)
        self.cert_path = Path(
            tempfile.mkdtemp(prefix='token-', dir=tmpdir),
        ) / 'cert.pem'
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._server: _TokenHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self._self_signed_cert()
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(
            cert.public_bytes(serialization.Encoding.DER),
        ).decode()
        self.realm = ''

    def _self_signed_cert(self) -> x509.Certificate:
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, 'pin-from test token')],
        )
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(
                x509.BasicConstraints(ca=True, path_length=None), critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )

    def start(self) -> TokenServer:
        self._server = _TokenHTTPServer(self)
        port = self._server.server_address[1]
        self.realm = f'http://127.0.0.1:{port}/token'
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name='token-server',
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def token_requests(self) -> list[TokenRequest]:
        """The requests for ``/token`` so far (a copy)."""
        with self._lock:
            return [r for r in self.requests if r.path == '/token']

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _handle(self, handler: _TokenHandler) -> None:
        url = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(url.query)
        header = handler.headers.get('Authorization')
        user = self._basic_user(header)
        if url.path != '/token':
            status, body = 404, {'error': 'not found'}
        elif self.users is not None and user is None:
            status, body = 401, {'error': 'authentication required'}
        else:
            status, body = 200, self._token_body(query, user)
        with self._lock:
            self.requests.append(
                TokenRequest(url.path, query, header is not None, user, status),
            )
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Content-Length', str(len(data)))
        if status == 401:
            handler.send_header('WWW-Authenticate', 'Basic realm="token"')
        handler.end_headers()
        handler.wfile.write(data)

    def _basic_user(self, header: str | None) -> str | None:
        """The user name if ``header`` holds credentials that match."""
        if self.users is None or header is None:
            return None
        scheme, _, value = header.partition(' ')
        if scheme.lower() != 'basic':
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            return None
        name, sep, password = decoded.partition(':')
        if sep and self.users.get(name) == password:
            return name
        return None

    def _token_body(
            self, query: dict[str, list[str]], user: str | None,
    ) -> dict[str, Any]:
        access = []
        for scope in query.get('scope', []):
            kind, _, rest = scope.partition(':')
            name, _, actions = rest.rpartition(':')
            wanted = [a for a in actions.split(',') if a]
            if user is None:
                wanted = [a for a in wanted if a in self.anonymous_actions]
            access.append({'type': kind, 'name': name, 'actions': wanted})
        token = self.make_token(access, subject=user or 'anonymous')
        now = datetime.datetime.now(datetime.timezone.utc)
        return {
            'token': token, 'access_token': token, 'expires_in': 300,
            'issued_at': now.isoformat(),
        }

    def make_token(
            self,
            access: list[dict[str, Any]],
            *,
            subject: str = 'anonymous',
            lifetime: int = 300,
    ) -> str:
        """An RS256 JWT the registry accepts (x5c header, rootcertbundle)."""
        now = int(time.time())
        header = {'typ': 'JWT', 'alg': 'RS256', 'x5c': [self._x5c]}
        claims = {
            'iss': self.issuer, 'sub': subject, 'aud': self.service,
            'exp': now + lifetime, 'nbf': now - 10, 'iat': now,
            'jti': uuid.uuid4().hex, 'access': access,
        }
        signing_input = '.'.join(
            _b64url(json.dumps(part, separators=(',', ':')).encode())
            for part in (header, claims)
        )
        signature = self._key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256(),
        )
        return f'{signing_input}.{_b64url(signature)}'


def _registry_binary() -> str:
    found = shutil.which('docker-registry') or '/usr/bin/docker-registry'
    if not os.access(found, os.X_OK):
        raise RegistryHelperError(
            'docker-registry is not installed: '
            'apt-get install -y docker-registry skopeo',
        )
    return found


def _registry_env() -> dict[str, str]:
    """Our environment without ``REGISTRY_*``.

    The registry reads ``REGISTRY_<SECTION>_<KEY>`` as config overrides, so
    e.g. podman's ``REGISTRY_AUTH_FILE`` would become an auth backend "file".
    """
    return {k: v for k, v in os.environ.items() if not k.startswith('REGISTRY_')}


AuthKind = Literal['htpasswd', 'token']
# 127.0.0.1 - - [28/Nov/2026:08:00:30 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "ua"
_ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) HTTP/[0-9.]+" ([0-9]{3}) ',
    re.MULTILINE,
)


class RegistryServer(Service):
    """``docker-registry serve`` on 127.0.0.1 with a JSON request log.

    Use it as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
            self,
            tmpdir: Path,
            auth: AuthKind | None = None,
            *,
            users: Mapping[str, str] | None = None,
            token_server: TokenServer | None = None,
    ) -> None:
        if auth == 'htpasswd' and not users:
            raise ValueError("auth='htpasswd' needs users")
        if auth == 'token' and token_server is None:
            raise ValueError("auth='token' needs token_server")
        if auth not in (None, 'htpasswd', 'token'):
            raise ValueError(f'unknown auth {auth!r}')
        self.auth = auth
        self.users = dict(users or {})
        self.token_server = token_server
        self.dir = Path(tempfile.mkdtemp(prefix='registry-', dir=tmpdir))
        self.log_path = self.dir / 'registry.log'
        self.port = 0
        self.host = ''
        self.url = ''
        self._proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        config: dict[str, Any] = {
            'version': 0.1,
            'log': {'level': 'info', 'formatter': 'json'},
            'storage': {
                'filesystem': {'rootdirectory': str(self.dir / 'storage')},
                'delete': {'enabled': True},
                'maintenance': {'uploadpurging': {'enabled': False}},
            },
            'http': {
                'addr': self.host, 'secret': 'pin-from-test-secret',
            },
        }
        if self.auth == 'htpasswd':
            htpasswd = self.dir / 'htpasswd'
            htpasswd.write_text(
                ''.join(
                    f'{htpasswd_line(u, p)}\n' for u, p in self.users.items()
                ),
            )
            config['auth'] = {'htpasswd': {'realm': 'test', 'path': str(htpasswd)}}
        elif self.auth == 'token':
            assert self.token_server is not None
            if not self.token_server.realm:
                raise RegistryHelperError('start the TokenServer first')
            config['auth'] = {'token': {
                'realm': self.token_server.realm,
                'service': self.token_server.service,
                'issuer': self.token_server.issuer,
                'rootcertbundle': str(self.token_server.cert_path),
            }}
        # JSON is YAML; no need for a YAML writer.
        return json.dumps(config, indent=2)

    def start(self) -> RegistryServer:
        binary = _registry_binary()
        for attempt in range(3):  # the free port may be taken meanwhile
            self.port = free_port()
            self.host = f'127.0.0.1:{self.port}'
            self.url = f'http://{self.host}'
            config_path = self.dir / 'config.yml'
            config_path.write_text(self._config())
            with open(self.log_path, 'ab') as log:
                self._proc = subprocess.Popen(
                    [binary, 'serve', str(config_path)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    env=_registry_env(),
                )
            if self._wait_ready():
                return self
            if 'address already in use' not in self.log_tail() or attempt == 2:
                break
        self.stop()
        raise RegistryHelperError(
            f'docker-registry did not answer GET /v2/ on {self.url} within '
            f'{START_DEADLINE:.0f}s; log tail:\n{self.log_tail()}',
        )

    def _wait_ready(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                resp = requests.get(f'{self.url}/v2/', timeout=1)
            except requests.ConnectionError:
                time.sleep(0.02)
                continue
            if resp.status_code in (200, 401):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors='replace')
        except FileNotFoundError:
            return '(no log)'
        return '\n'.join(text.splitlines()[-lines:])

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        """Every request answered so far: ``{'method', 'uri', 'status'}``.

        ``since`` skips that many entries (take ``len(requests_log())``
        before the code under test runs). Parsed from the access-log line the
        registry writes for *every* request: its JSON ``response completed``
        lines leave out 401s (only an "error authorizing context" warning)
        and 404s for unrouted paths. The registry logs a request just after
        answering it, so this waits until the log stops growing.
        """
        entries = [
            {'method': m[1], 'uri': m[2], 'status': int(m[3])}
            for m in _ACCESS_LINE.finditer(self._settled_log())
        ]
        return entries[since:]

    def _settled_log(self) -> str:
        text = self.log_path.read_text(errors='replace')
        for _ in range(50):
            time.sleep(0.01)
            again = self.log_path.read_text(errors='replace')
            if again == text:
                return text
            text = again
        return text


# --- pushing images ---------------------------------------------------------

class _Client:
    """Requests to one repository, answering 401 challenges once each."""

    def __init__(
            self,
            registry_url: str,
            repository: str,
            auth: tuple[str, str] | None,
            actions: str,
    ) -> None:
        self.base = registry_url.rstrip('/')
        self.repository = repository
        self.auth = auth
        self.actions = actions
        self.session = requests.Session()
        self.session.trust_env = False  # never a proxy or a real netrc
        self._authorization: str | None = None

    def url(self, path: str) -> str:
        return f'{self.base}/v2/{self.repository}/{path}'

    def request(
            self,
            method: str,
            url: str,
            *,
            headers: Mapping[str, str] | None = None,
            data: bytes | None = None,
    ) -> requests.Response:
        for attempt in range(2):
            sent = dict(headers or {})
            if self._authorization is not None:
                sent['Authorization'] = self._authorization
            resp = self.session.request(
                method, url, headers=sent, data=data, timeout=TIMEOUT,
                allow_redirects=False,
            )
            challenge = resp.headers.get('WWW-Authenticate')
            if resp.status_code != 401 or challenge is None or attempt:
                return resp
            self._authorization = self._answer(challenge)
        raise AssertionError('unreachable')

    def _answer(self, challenge: str) -> str:
        scheme, _, rest = challenge.partition(' ')
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if scheme.lower() == 'basic':
            if self.auth is None:
                raise RegistryHelperError('registry wants Basic auth: pass auth=')
            user, password = self.auth
            raw = base64.b64encode(f'{user}:{password}'.encode()).decode()
            return f'Basic {raw}'
        if scheme.lower() != 'bearer' or 'realm' not in params:
            raise RegistryHelperError(f'unexpected challenge {challenge!r}')
        query = {
            'service': params.get('service', ''),
            'scope': f'repository:{self.repository}:{self.actions}',
        }
        resp = self.session.get(
            params['realm'], params=query, auth=self.auth, timeout=TIMEOUT,
        )
        if resp.status_code != 200:
            raise RegistryHelperError(
                f'token endpoint answered {resp.status_code}',
            )
        body = resp.json()
        return f"Bearer {body.get('token') or body['access_token']}"

    def check(self, resp: requests.Response, *expected: int) -> None:
        if resp.status_code not in expected:
            raise RegistryHelperError(
                f'{resp.request.method} {resp.url} answered '
                f'{resp.status_code}: {resp.text[:500]}',
            )

    def upload_blob(self, data: bytes) -> str:
        digest = _sha256(data)
        resp = self.request('POST', self.url('blobs/uploads/'))
        self.check(resp, 202)
        location = urllib.parse.urljoin(self.base, resp.headers['Location'])
        sep = '&' if urllib.parse.urlsplit(location).query else '?'
        resp = self.request(
            'PUT', f'{location}{sep}digest={digest}', data=data,
            headers={'Content-Type': 'application/octet-stream'},
        )
        self.check(resp, 201)
        return digest

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> str:
        resp = self.request(
            'PUT', self.url(f'manifests/{reference}'), data=body,
            headers={'Content-Type': media_type},
        )
        self.check(resp, 201)
        digest = resp.headers.get('Docker-Content-Digest')
        if digest != _sha256(body):
            raise RegistryHelperError(
                f'registry says {digest}, the bytes hash to {_sha256(body)}',
            )
        return digest


def _layer(seed: str, platform: Platform, index: int) -> bytes:
    """A small gzipped tar; the same arguments give the same bytes."""
    name = '-'.join(platform)
    content = f'seed={seed} platform={name} layer={index}\n'.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(f'pin-from-test/{name}/layer-{index}.txt')
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _platform_dict(platform: Platform) -> dict[str, str]:
    result = {'architecture': platform[1], 'os': platform[0]}
    if len(platform) > 2:
        result['variant'] = platform[2]
    return result


def _config_blob(
        platform: Platform,
        env: Mapping[str, str] | None,
        labels: Mapping[str, str] | None,
        diff_ids: list[str],
) -> bytes:
    env_list = [_DEFAULT_PATH] if env is None else [
        f'{k}={v}' for k, v in env.items()
    ]
    config = {
        **_platform_dict(platform),
        'created': _CREATED,
        'config': {
            'Env': env_list, 'Labels': dict(labels or {}), 'Cmd': ['sh'],
        },
        'rootfs': {'type': 'layers', 'diff_ids': diff_ids},
        'history': [
            {'created': _CREATED, 'created_by': f'pin-from test layer {i}'}
            for i in range(len(diff_ids))
        ],
    }
    return json.dumps(config, indent=2, sort_keys=True).encode()


def _push_platform(
        client: _Client,
        platform: Platform,
        env: Mapping[str, str] | None,
        labels: Mapping[str, str] | None,
        layers: int,
        seed: str,
) -> tuple[bytes, str]:
    """Upload one platform's blobs and manifest; the manifest bytes, digest."""
    layer_descs, diff_ids = [], []
    for index in range(layers):
        tar = _layer(seed, platform, index)
        blob = gzip.compress(tar, mtime=0)
        diff_ids.append(_sha256(tar))
        layer_descs.append({
            'mediaType': OCI_LAYER, 'size': len(blob),
            'digest': client.upload_blob(blob),
        })
    config = _config_blob(platform, env, labels, diff_ids)
    manifest = json.dumps({
        'schemaVersion': 2,
        'mediaType': OCI_MANIFEST,
        'config': {
            'mediaType': OCI_CONFIG, 'size': len(config),
            'digest': client.upload_blob(config),
        },
        'layers': layer_descs,
    }, indent=2).encode()
    return manifest, client.put_manifest(_sha256(manifest), manifest, OCI_MANIFEST)


def push_image(
        registry_url: str,
        repository: str,
        tag: str,
        *,
        platforms: Sequence[Platform] = DEFAULT_PLATFORMS,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        layers: int = 1,
        seed: str = '',
        auth: tuple[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
) -> str:
    """Push a small real image under ``repository:tag``; its top digest.

    Several platforms make an OCI index of per-platform OCI manifests; one
    platform makes a single OCI manifest. The same arguments push the same
    bytes (so the same digest); another ``seed`` gives other digests.
    """
    if not platforms:
        raise ValueError('platforms must not be empty')
    client = _Client(registry_url, repository, auth, 'pull,push')
    entries = []
    for platform in platforms:
        manifest, digest = _push_platform(
            client, platform, env, labels, layers, seed,
        )
        entries.append((platform, manifest, digest))
    if len(entries) == 1:
        _, manifest, _ = entries[0]
        return client.put_manifest(tag, manifest, OCI_MANIFEST)
    index = json.dumps({
        'schemaVersion': 2,
        'mediaType': OCI_INDEX,
        **({'annotations': dict(annotations)} if annotations else {}),
        'manifests': [
            {
                'mediaType': OCI_MANIFEST, 'size': len(manifest),
                'digest': digest, 'platform': _platform_dict(platform),
            }
            for platform, manifest, digest in entries
        ],
    }, indent=2).encode()
    return client.put_manifest(tag, index, OCI_INDEX)


def head_manifest(
        registry_url: str,
        repository: str,
        reference: str,
        auth: tuple[str, str] | None = None,
) -> requests.Response:
    """HEAD a manifest with the full Accept list, answering auth challenges."""
    client = _Client(registry_url, repository, auth, 'pull')
    return client.request(
        'HEAD', client.url(f'manifests/{reference}'),
        headers={'Accept': MANIFEST_ACCEPT},
    )


def delete_tag(
        registry_url: str,
        repository: str,
        digest: str,
        auth: tuple[str, str] | None = None,
) -> None:
    """DELETE the manifest ``digest``: every tag pointing at it goes too."""
    client = _Client(registry_url, repository, auth, 'pull,push,delete')
    resp = client.request('DELETE', client.url(f'manifests/{digest}'))
    client.check(resp, 202)


def skopeo_digest(
        host: str, ref: str, creds: tuple[str, str] | None = None,
) -> str:
    """The top-level digest of ``HOST/REF`` according to skopeo (the oracle)."""
    argv = [
        'skopeo', 'inspect', '--tls-verify=false', '--format', '{{.Digest}}',
    ]
    if creds is not None:
        argv += ['--creds', f'{creds[0]}:{creds[1]}']
    argv.append(f'docker://{host}/{ref}')
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:  # the argv may hold a password: leave it out
        raise RegistryHelperError(
            f'skopeo inspect docker://{host}/{ref} failed: {proc.stderr.strip()}',
        )
    return proc.stdout.strip()


class FakeHub:
    """The test registry playing Docker Hub, under a path prefix of its own.

    ``python:3.12`` in a Dockerfile is looked up as ``<registry>/<prefix>/library/python:3.12``
    through ``--registry-mirror`` (:attr:`mirror`), so tests can use real-looking official names.
    """

    def __init__(self, registry: RegistryServer, prefix: str) -> None:
        self.registry = registry
        self.prefix = prefix
        self.mirror = f'docker.io={registry.url}/{prefix}'

    def repository(self, name: str) -> str:
        return f'{self.prefix}/{name if "/" in name else f"library/{name}"}'

    def push(self, name: str, tag: str, **kwargs: Any) -> str:
        return push_image(self.registry.url, self.repository(name), tag, **kwargs)

    def skopeo(self, name: str, tag: str) -> str:
        return skopeo_digest(self.registry.host, f'{self.repository(name)}:{tag}')

    def delete(self, name: str, digest: str) -> None:
        delete_tag(self.registry.url, self.repository(name), digest)
