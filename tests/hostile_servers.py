"""Hostile servers on loopback (issue #15): slow, endless, huge, lying answers.

Built on :class:`tests.faultproxy.FaultProxy`: a hostile server is a fault
proxy with no upstream (everything unscripted is a 404), or one in front of
the real registry (everything unscripted passes through). The actions here
write their answers themselves, and each is bounded: it stops when the server
stops, after ``max_seconds``, or after ``max_bytes``, so no thread a test
starts outlives it::

    with hostile() as server:
        server.add(bearer_challenge(server), path='^/v2/$')
        server.add(TrickleHeaders(interval=0.3), path='^/token')
        ...  # point pin-from at 127.0.0.1:PORT

Helpers build registry-shaped answers: :func:`bearer_challenge`,
:func:`login_page`, :func:`manifest_answer`, :func:`serve_image`.

Like ``tests/registry_server.py`` this module does not import pytest.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Mapping

from tests.faultproxy import Custom
from tests.faultproxy import FaultProxy
from tests.faultproxy import Status

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
MAX_SECONDS = 60.0  # no action runs longer, whatever the client does
MAX_BYTES = 8 * 1024 ** 3
LOGIN_PAGE = (
    b'<!DOCTYPE html><html><head><title>Sign in - Corporate Proxy</title></head>'
    b'<body><form action="/login" method="post"><input name="user"><input name="password" type="password">'
    b'</form></body></html>\n'
)


def hostile(upstream: str | None = None) -> FaultProxy:
    """A hostile server (a ``with`` block): 404 to anything unscripted, unless ``upstream``."""
    return FaultProxy(upstream)


def sha256(data: bytes) -> str:
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def _bounded(down: threading.Event, started: float, max_seconds: float) -> bool:
    """Whether a loop may go on: the server is up and the action is within its time."""
    return not down.is_set() and time.monotonic() - started < max_seconds


def _status_line(handler: http.server.BaseHTTPRequestHandler, code: int) -> bytes:
    reason = http.server.BaseHTTPRequestHandler.responses.get(code, ('',))[0]
    return f'{handler.protocol_version} {code} {reason}\r\n'.encode()


def _headers(headers: Mapping[str, str]) -> bytes:
    return b''.join(f'{k}: {v}\r\n'.encode() for k, v in headers.items())


@dataclass(frozen=True)
class TrickleHeaders(Custom):
    """A status line, then one header line every ``interval`` s, never ending the headers."""

    code: int = 200
    interval: float = 2.0
    max_seconds: float = MAX_SECONDS

    def serve(self, handler: http.server.BaseHTTPRequestHandler, down: threading.Event) -> None:
        started = time.monotonic()
        handler.wfile.write(_status_line(handler, self.code))
        n = 0
        while _bounded(down, started, self.max_seconds):
            handler.wfile.write(f'X-Trickle-{n}: {"x" * 16}\r\n'.encode())
            handler.wfile.flush()
            n += 1
            down.wait(self.interval)


@dataclass(frozen=True)
class TrickleBody(Custom):
    """Headers announcing ``length`` bytes, then one byte every ``interval`` s."""

    headers: Mapping[str, str] = field(default_factory=dict)
    interval: float = 1.0
    length: int = 1_000_000
    byte: bytes = b' '
    max_seconds: float = MAX_SECONDS

    def serve(self, handler: http.server.BaseHTTPRequestHandler, down: threading.Event) -> None:
        started = time.monotonic()
        head = {**self.headers, 'Content-Length': str(self.length), 'Connection': 'close'}
        handler.wfile.write(_status_line(handler, 200) + _headers(head) + b'\r\n')
        if handler.command == 'HEAD':
            return
        sent = 0
        while sent < self.length and _bounded(down, started, self.max_seconds):
            handler.wfile.write(self.byte)
            handler.wfile.flush()
            sent += 1
            down.wait(self.interval)


@dataclass(frozen=True)
class Endless(Custom):
    """``prefix``, then ``filler`` as fast as the client reads: no length, no end.

    Ends at ``max_bytes`` or ``max_seconds`` (or when the server stops).
    """

    headers: Mapping[str, str] = field(default_factory=lambda: {'Content-Type': 'application/json'})
    prefix: bytes = b'{"token": "'
    filler: bytes = b'A' * 65536
    max_bytes: int = MAX_BYTES
    max_seconds: float = MAX_SECONDS

    def serve(self, handler: http.server.BaseHTTPRequestHandler, down: threading.Event) -> None:
        started = time.monotonic()
        head = {**self.headers, 'Connection': 'close'}  # the body ends when the connection does
        handler.wfile.write(_status_line(handler, 200) + _headers(head) + b'\r\n')
        if handler.command == 'HEAD':
            return
        handler.wfile.write(self.prefix)
        sent = len(self.prefix)
        while sent < self.max_bytes and _bounded(down, started, self.max_seconds):
            handler.wfile.write(self.filler)
            sent += len(self.filler)


@functools.lru_cache(maxsize=None)
def gzip_bomb(expanded: int = 1024 ** 3, prefix: bytes = b'{"token": "') -> bytes:
    """A gzip body of ``prefix`` and then spaces, about ``expanded`` bytes once decoded.

    Deflate tops out near 1:1030, so 1 GiB comes from about 1 MB: the same
    64 MiB member repeated (gzip allows many members; HTTP clients decode them
    all), built in a fraction of a second.
    """
    member = 64 * 1024 ** 2
    first = gzip.compress(prefix + b' ' * member, compresslevel=9, mtime=0)
    rest = gzip.compress(b' ' * member, compresslevel=9, mtime=0)
    return first + rest * max(0, expanded // member - 1)


@dataclass(frozen=True)
class GzipBomb(Custom):
    """A small ``Content-Encoding: gzip`` body that decodes to ``expanded`` bytes."""

    expanded: int = 1024 ** 3
    headers: Mapping[str, str] = field(default_factory=lambda: {'Content-Type': 'application/json'})
    max_seconds: float = MAX_SECONDS

    def serve(self, handler: http.server.BaseHTTPRequestHandler, down: threading.Event) -> None:
        body = gzip_bomb(self.expanded)
        head = {
            **self.headers, 'Content-Encoding': 'gzip', 'Content-Length': str(len(body)),
            'Connection': 'close',
        }
        handler.wfile.write(_status_line(handler, 200) + _headers(head) + b'\r\n')
        if handler.command == 'HEAD':
            return
        started = time.monotonic()
        for start in range(0, len(body), 65536):
            if not _bounded(down, started, self.max_seconds):
                return
            handler.wfile.write(body[start:start + 65536])


# --- registry-shaped answers ---------------------------------------------------------

def bearer_challenge(server: FaultProxy, service: str = 'hostile') -> Status:
    """``/v2/`` answering 401 with a Bearer challenge naming the server's own ``/token``."""
    return Status(401, {
        'WWW-Authenticate': f'Bearer realm="{server.url}/token",service="{service}"',
        'Content-Type': 'application/json',
    }, b'{"errors":[{"code":"UNAUTHORIZED"}]}')


def basic_challenge() -> Status:
    return Status(401, {'WWW-Authenticate': 'Basic realm="hostile"'}, b'')


def login_page() -> Status:
    """What a captive or SSO proxy answers: 200, ``text/html``, no ``Docker-Content-Digest``."""
    return Status(200, {'Content-Type': 'text/html; charset=utf-8'}, LOGIN_PAGE)


def manifest_answer(body: bytes, media_type: str = OCI_MANIFEST) -> Status:
    """A manifest answer that matches its digest, whatever ``body`` holds."""
    return Status(200, {'Content-Type': media_type, 'Docker-Content-Digest': sha256(body)}, body)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=2).encode()


def config_blob(labels: Any = None, env: Any = None) -> bytes:
    return json_bytes({
        'architecture': 'amd64', 'os': 'linux', 'created': '2024-06-01T00:00:00Z',
        'config': {'Env': env if env is not None else ['PATH=/bin'], 'Labels': labels if labels is not None else {}},
        'rootfs': {'type': 'layers', 'diff_ids': []},
    })


def image_manifest(config: bytes, layers: Any = None, config_field: Any = None) -> bytes:
    """An OCI image manifest for ``config`` (``config_field`` replaces its descriptor)."""
    descriptor = {'mediaType': OCI_CONFIG, 'size': len(config), 'digest': sha256(config)}
    if layers is None:
        layers = [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'size': 32, 'digest': sha256(b'l')}]
    return json_bytes({
        'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
        'config': descriptor if config_field is None else config_field, 'layers': layers,
    })


def serve_image(
        server: FaultProxy, repo: str, tag: str, top: bytes, *,
        media_type: str = OCI_MANIFEST, manifests: tuple[bytes, ...] = (), blobs: tuple[bytes, ...] = (),
) -> str:
    """Script ``repo:tag`` -> ``top`` (by tag and by digest), more manifests and blobs by digest.

    Rules are added first-match-first, so call this before any catch-all rule.
    Returns the digest of ``top``.
    """
    server.add(manifest_answer(top, media_type), path=f'^/v2/{repo}/manifests/({tag}|{sha256(top)})$')
    for body in manifests:
        server.add(manifest_answer(body), path=f'^/v2/{repo}/manifests/{sha256(body)}$')
    for blob in blobs:
        server.add(Status(200, {'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': sha256(blob)},
                          blob), path=f'^/v2/{repo}/blobs/{sha256(blob)}$')
    return sha256(top)
