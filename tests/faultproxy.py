"""A scriptable HTTP proxy on loopback, in front of a real registry, for fault tests.

The client talks to the proxy as if it were the registry; each request is
matched against the proxy's rules in order (method, path regex, how many more
times) and answered by the first match, else passed through::

    with FaultProxy(registry.host) as proxy:
        proxy.add(Status(500), path='/manifests/', times=2)  # then pass-through
        proxy.add(Status(429, {'Retry-After': '1'}), times=1)
        proxy.add(Reset())              # TCP reset (SO_LINGER 0)
        proxy.add(Delay(2.0))           # answer late (then pass through)
        proxy.add(Stop())               # stop listening; every later request fails

Actions that write their own answer (trickling, endless or compressed bodies)
subclass :class:`Custom`; ``tests/hostile_servers.py`` holds them, and a
proxy without an upstream (``FaultProxy(None)``) answers 404 to the rest.

``tls=`` makes it serve HTTPS (see :func:`self_signed`), a way to put a real
certificate problem in front of the registry. :meth:`FaultProxy.seen` lists
the requests, with the Authorization *scheme* only, never its value.

Like ``tests/registry_server.py`` this module does not import pytest.
"""
from __future__ import annotations

import datetime
import http.client
import http.server
import ipaddress
import re
import socket
import ssl
import struct
import threading
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Mapping
from typing import NamedTuple
from typing import Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.registry_server import Service

UPSTREAM_TIMEOUT = 10.0
# Not forwarded either way (RFC 9110 7.6.1), plus what the proxy sets itself.
_NOT_FOUND = b'{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}'
_HOP = frozenset((
    'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te',
    'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'date', 'server',
))


@dataclass(frozen=True)
class Pass:
    """Forward to the registry (what happens when no rule matches)."""


@dataclass(frozen=True)
class Status:
    """Answer ``code`` with ``headers`` and ``body`` instead of the registry."""

    code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b''


@dataclass(frozen=True)
class Reset:
    """Drop the connection with a TCP reset, answering nothing."""


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (a client with a shorter timeout gives up), then forward."""

    seconds: float


@dataclass(frozen=True)
class Stop:
    """The registry goes away: stop listening, reset this and every later request."""


class Custom:
    """An action that writes the whole answer itself (see tests/hostile_servers.py).

    ``serve`` must return once ``down`` is set (the proxy is stopping), and
    bound its own time and size: nothing a test starts may outlive it.
    """

    def serve(self, handler: http.server.BaseHTTPRequestHandler, down: threading.Event) -> None:
        raise NotImplementedError


Action = Union[Pass, Status, Reset, Delay, Stop, Custom]


@dataclass
class Rule:
    action: Action
    method: str | None
    path: re.Pattern[str]
    times: int | None  # None: forever


class Seen(NamedTuple):
    """One request the proxy received."""

    method: str
    path: str
    action: str  # the action's class name
    authorization: str | None  # 'Basic', 'Bearer' or None: the scheme only


def self_signed(directory: Path, names: tuple[str, ...] = ('127.0.0.1', 'localhost')) -> tuple[Path, Path]:
    """A self-signed CA certificate for ``names`` and its key: (cert.pem, key.pem).

    The certificate is its own CA, so ``REQUESTS_CA_BUNDLE=cert.pem`` trusts it.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'pin-from fault proxy')])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / 'cert.pem', directory / 'key.pem'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    return cert_path, key_path


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        sock.close()
    except OSError:
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as registries do
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (stdlib names)
        self.server.owner._handle(self)

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: FaultProxy) -> None:
        self.owner = owner
        super().__init__(('127.0.0.1', 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(UPSTREAM_TIMEOUT)
        tls = self.owner.tls
        try:
            if tls is not None:
                request = tls.wrap_socket(request, server_side=True)
            elif request.recv(1, socket.MSG_PEEK) == b'\x16':
                # A TLS ClientHello on plain HTTP: answer as Go servers do, so
                # a client probing HTTPS first learns fast that it is not.
                request.sendall(b'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTPS request\n')
                return
        except OSError:  # ssl.SSLError is one: a client that gave up on our certificate
            return
        try:
            _Handler(request, client_address, self)
        finally:
            if tls is not None:
                request.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out leave broken pipes behind: expected here


class FaultProxy(Service):
    """See the module docstring. Thread-safe; a context manager."""

    def __init__(self, upstream: str | None, *, tls: tuple[Path, Path] | None = None) -> None:
        self.upstream = upstream  # HOST:PORT of the real registry (plain HTTP); None: 404s
        self.tls: ssl.SSLContext | None = None
        if tls is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(str(tls[0]), str(tls[1]))
        self.host = ''
        self.url = ''
        self._rules: list[Rule] = []
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._down = threading.Event()  # after Stop, or stop()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # life cycle

    def start(self) -> FaultProxy:
        self._server = _Server(self)
        self.host = f'127.0.0.1:{self._server.server_address[1]}'
        self.url = f"{'https' if self.tls else 'http'}://{self.host}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name='fault-proxy', daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused, open ones reset."""
        self._down.set()
        with self._lock:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # the script

    def add(
            self, action: Action, *, method: str | None = None, path: str = '',
            times: int | None = None,
    ) -> FaultProxy:
        """Answer requests whose path matches regex ``path`` with ``action``."""
        with self._lock:
            self._rules.append(Rule(action, method, re.compile(path), times))
        return self

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._seen.clear()

    def seen(self, path: str = '') -> list[Seen]:
        """The requests so far whose path matches regex ``path`` (a copy)."""
        pattern = re.compile(path)
        with self._lock:
            return [s for s in self._seen if pattern.search(s.path)]

    # serving

    def _next_action(self, method: str, path: str) -> Action:
        for rule in self._rules:
            if rule.method not in (None, method) or not rule.path.search(path):
                continue
            if rule.times is not None:
                if rule.times <= 0:
                    continue
                rule.times -= 1
            return rule.action
        return Pass()

    def _handle(self, handler: _Handler) -> None:
        header = handler.headers.get('Authorization')
        with self._lock:
            action: Action = Stop() if self._down.is_set() else self._next_action(handler.command, handler.path)
            self._seen.append(Seen(
                handler.command, handler.path, type(action).__name__,
                header.partition(' ')[0] if header else None,
            ))
        if isinstance(action, Stop):
            if not self._down.is_set():
                self._down.set()
                threading.Thread(target=self.stop, daemon=True).start()
            action = Reset()
        if isinstance(action, Delay):
            if self._down.wait(action.seconds):
                action = Reset()
        handler.close_connection = isinstance(action, (Reset, Custom))
        if isinstance(action, Custom):
            try:
                action.serve(handler, self._down)
            except OSError:  # the client gave up: expected here
                pass
        elif isinstance(action, Reset):
            _reset(handler.connection)
        elif isinstance(action, Status):
            self._answer(handler, action.code, list(action.headers.items()), action.body)
        else:
            self._forward(handler)

    def _answer(
            self, handler: _Handler, code: int, headers: list[tuple[str, str]], body: bytes,
            length: str | None = None,
    ) -> None:
        handler.send_response(code)
        for name, value in headers:
            if name.lower() not in _HOP:
                handler.send_header(name, value)
        handler.send_header('Content-Length', length if length is not None else str(len(body)))
        handler.end_headers()
        if handler.command != 'HEAD':
            handler.wfile.write(body)

    def _forward(self, handler: _Handler) -> None:
        if self.upstream is None:
            self._answer(handler, 404, [('Content-Type', 'application/json')], _NOT_FOUND)
            return
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        conn = http.client.HTTPConnection(self.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.request(handler.command, handler.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            self._answer(handler, 502, [], b'registry unreachable\n')
            return
        finally:
            conn.close()
        length_header = resp.getheader('Content-Length') if handler.command == 'HEAD' else None
        self._answer(handler, resp.status, resp.getheaders(), data, length_header)
