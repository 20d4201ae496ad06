"""One HTTP session for every source: registries, token services, library files, notices.

Network discipline, in one place:

- **Deadlines.** Each attempt of a request has a total deadline of ``timeout``
  seconds covering connect, headers and body; a server that trickles a header
  line every few seconds is cut off when it passes (a watchdog shuts the
  socket down). A whole run has a ceiling of :data:`RUN_CEILING_FACTOR` x
  ``timeout``: after it, every request fails at once.
- **Retries.** Connection errors, timeouts, resets, 429 and 5xx are retried up
  to :data:`RETRIES` times with backoff (``RETRY_BACKOFF`` x 0, 2, 4...); a
  ``Retry-After`` is honoured while the waits of one request stay within
  :data:`RETRY_WAIT_CAP` seconds; a longer one ends the request at once.
- **Bounded bodies.** Bodies are streamed and capped *after* decoding (gzip and
  deflate are inflated here, a bounded amount at a time); the caller names the
  cap. Redirects are followed here (at most :data:`MAX_REDIRECTS`), without
  reading the bodies of the redirect answers.
- **Credentials.** Only the headers a caller passes are sent; ``~/.netrc`` is
  never read; an ``Authorization`` header never follows a redirect to another
  origin.

``requests`` and ``urllib3`` are imported only when a session is made: a run
whose answers are all cached never loads them.
"""
from __future__ import annotations

import socket
import threading
import time
import zlib
from typing import Any
from typing import Iterator
from typing import Mapping
from typing import NamedTuple
from typing import TYPE_CHECKING
from urllib.parse import urljoin
from urllib.parse import urlsplit

from pin_from.errors import PinFromError
from pin_from.errors import Unavailable
from pin_from.limits import DEFAULT_TIMEOUT
from pin_from.limits import RUN_CEILING_FACTOR

if TYPE_CHECKING:
    import requests

RETRIES = 3
RETRY_BACKOFF = 0.3  # seconds: retries wait 0, 0.6, 1.2 (tests shorten it)
RETRY_WAIT_CAP = 10.0  # seconds one request may spend waiting to retry, Retry-After included
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
USER_AGENT = 'pin-from/0.2'


class TransportError(Unavailable):
    """No answer from ``host``: ``kind`` is unreachable, timeout, reset, tls,
    tls-untrusted, deadline or retries."""

    def __init__(self, kind: str, host: str, detail: str = '') -> None:
        self.kind = kind
        self.host = host
        self.detail = detail
        message = _TRANSPORT_MESSAGES[kind].format(host=host, detail=detail)
        if kind == 'unreachable' and detail:
            message += f' ({detail})'
        super().__init__(message)


_TRANSPORT_MESSAGES = {
    'unreachable': 'cannot reach {host}',
    'timeout': '{host} did not answer in time (--timeout)',
    'reset': '{host} dropped the connection',
    'tls': 'TLS error talking to {host}; if it serves plain HTTP, pass --insecure-registry {host}',
    'tls-untrusted': (
        'TLS error talking to {host}: certificate not trusted; point REQUESTS_CA_BUNDLE at its CA '
        'certificate, or pass --insecure-registry {host}'
    ),
    'deadline': 'no request to {host}: the run passed its time ceiling ({detail})',
    'protocol': '{host} answered something that is not HTTP',
}


class BodyError(PinFromError):
    """A body that is too large or cannot be decoded."""


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # empty for HEAD and for answers the caller did not want read
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {'http': 80, 'https': 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme, parts.hostname or '', port


# -- the deadline watchdog -------------------------------------------------

class _Attempt:
    """The sockets one attempt uses, shut down when its deadline passes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.socks: list[socket.socket] = []
        self.expired = False
        self.done = False

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self.lock:
            self.socks.append(sock)
            if self.expired:
                _shutdown(sock)

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            for sock in self.socks:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a blocked recv
    except OSError:
        pass


_current = threading.local()


def _watch_current(sock: socket.socket | None) -> None:
    attempt: _Attempt | None = getattr(_current, 'attempt', None)
    if attempt is not None:
        attempt.watch(sock)


class _Watchdog:
    def __init__(self, seconds: float) -> None:
        self.attempt = _Attempt()
        self.timer = threading.Timer(max(0.0, seconds), self.attempt.expire)
        self.timer.daemon = True

    def __enter__(self) -> _Attempt:
        _current.attempt = self.attempt
        self.timer.start()
        return self.attempt

    def __exit__(self, *exc: object) -> None:
        with self.attempt.lock:
            self.attempt.done = True
        self.timer.cancel()
        _current.attempt = None


# -- bounded bodies --------------------------------------------------------

def _decoder(encoding: str | None) -> Any:
    enc = (encoding or 'identity').strip().lower()
    if enc in ('', 'identity'):
        return None
    if enc in ('gzip', 'x-gzip', 'deflate'):
        return zlib.decompressobj(47)  # gzip or zlib header, detected
    raise BodyError(f'unsupported content encoding {enc[:40]!r}')


def _chunks(raw: Any) -> Iterator[bytes]:
    while True:
        chunk = raw.read(_CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk


def read_capped(raw: Any, encoding: str | None, cap: int) -> bytes:
    """The decoded body, or BodyError once it passes ``cap`` bytes (decoded)."""
    decoder = _decoder(encoding)
    out = bytearray()
    for chunk in _chunks(raw):
        if decoder is None:
            out += chunk
        else:
            try:
                out += decoder.decompress(chunk, cap + 1 - len(out))
                while decoder.unconsumed_tail and len(out) <= cap:
                    out += decoder.decompress(decoder.unconsumed_tail, cap + 1 - len(out))
            except zlib.error:
                raise BodyError('a compressed body that does not decompress') from None
        if len(out) > cap:
            raise BodyError(f'an answer larger than {_size(cap)}')
    return bytes(out)


def _size(n: int) -> str:
    from pin_from.limits import size_text
    return size_text(n)


# -- the session -----------------------------------------------------------

def _requests_session(insecure: frozenset[str]) -> requests.Session:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection
    from urllib3.connection import HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.connectionpool import HTTPSConnectionPool

    class WatchedHTTP(HTTPConnection):
        def request(self, *args: Any, **kwargs: Any) -> None:
            super().request(*args, **kwargs)
            _watch_current(self.sock)

    class WatchedHTTPS(HTTPSConnection):
        def request(self, *args: Any, **kwargs: Any) -> None:
            super().request(*args, **kwargs)
            _watch_current(self.sock)

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPS

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {'http': HTTPPool, 'https': HTTPSPool}

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = {'http': HTTPPool, 'https': HTTPSPool}
            return manager

    class NoNetrc(requests.auth.AuthBase):
        def __call__(self, request: Any) -> Any:
            return request  # credentials come only from the caller's headers

    if insecure:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session = requests.Session()
    session.auth = NoNetrc()
    adapter = Adapter(max_retries=0, pool_maxsize=32)
    session.mount('https://', adapter)
    session.mount('http://', adapter)
    session.headers['User-Agent'] = USER_AGENT
    session.headers['Accept-Encoding'] = 'gzip, deflate'
    return session


class Http:
    """Thread-safe: one per run, shared by every source."""

    def __init__(
            self, timeout: float = DEFAULT_TIMEOUT, insecure: frozenset[str] = frozenset(),
    ) -> None:
        self.timeout = timeout
        self.insecure = insecure
        self.ceiling = RUN_CEILING_FACTOR * timeout
        self._ends = time.monotonic() + self.ceiling
        self._session = _requests_session(insecure)

    def close(self) -> None:
        self._session.close()

    def request(
            self, method: str, url: str, *, cap: int, headers: Mapping[str, str] | None = None,
            params: Mapping[str, str] | None = None, data: Mapping[str, str] | bytes | None = None,
            follow: bool = False, read: bool = True, retry: bool = True,
    ) -> Response:
        """One request with retries; the body is read (up to ``cap``) when ``read``
        and the status is 200. Raises TransportError, BodyError."""
        waited = 0.0
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES or not retry
            try:
                resp = self._follow(method, url, headers or {}, params, data, follow, read, cap)
            except TransportError as e:
                if last or e.kind in ('deadline', 'tls', 'tls-untrusted'):
                    raise
                wait: float | None = self._backoff(attempt)
                failure: Response | TransportError = e
            else:
                if last or resp.status not in RETRY_STATUSES:
                    return resp
                wait = retry_after(resp) if resp.header('Retry-After') is not None else self._backoff(attempt)
                failure = resp
            if wait is None or waited + wait > RETRY_WAIT_CAP:
                break  # the caller names the status (and the Retry-After asked for)
            time.sleep(wait)
            waited += wait
        if isinstance(failure, TransportError):
            raise failure
        return failure

    @staticmethod
    def _backoff(attempt: int) -> float:
        return 0.0 if attempt == 0 else RETRY_BACKOFF * (2 ** attempt)

    def _follow(
            self, method: str, url: str, headers: Mapping[str, str],
            params: Mapping[str, str] | None, data: Mapping[str, str] | bytes | None,
            follow: bool, read: bool, cap: int,
    ) -> Response:
        start = url
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._once(method, url, headers, params, data, read, cap)
            location = resp.header('Location')
            if not follow or resp.status not in (301, 302, 303, 307, 308) or not location:
                return resp
            url = urljoin(url, location)
            params = None  # they are in the Location now
            if origin(url) != origin(start):
                headers = {k: v for k, v in headers.items() if k.lower() != 'authorization'}
        raise TransportError('protocol', host_of(start), 'too many redirects')

    def _once(
            self, method: str, url: str, headers: Mapping[str, str],
            params: Mapping[str, str] | None, data: Mapping[str, str] | bytes | None,
            read: bool, cap: int,
    ) -> Response:
        import requests
        host = host_of(url)
        left = self._ends - time.monotonic()
        if left <= 0:
            raise TransportError('deadline', host, f'{self.ceiling:g} s')
        seconds = min(self.timeout, left)
        with _Watchdog(seconds) as attempt:
            try:
                resp = self._session.request(
                    method, url, headers=dict(headers), params=params, data=data,
                    allow_redirects=False, stream=True, timeout=seconds,
                    verify=host not in self.insecure,
                )
                released = False
                try:
                    body = b''
                    if read and resp.status_code == 200 and method != 'HEAD':
                        length = resp.headers.get('Content-Length', '')
                        if length.isdigit() and int(length) > cap and not resp.headers.get('Content-Encoding'):
                            raise BodyError(f'an answer larger than {_size(cap)}')
                        body = read_capped(resp.raw, resp.headers.get('Content-Encoding'), cap)
                    released = _release(resp.raw, method)
                    return Response(resp.status_code, resp.headers, body, url)
                finally:
                    if not released:
                        resp.close()
            except BodyError:
                raise
            except requests.exceptions.RequestException as e:
                raise _transport_error(host, e, attempt.expired) from None
            except Exception as e:  # urllib3 errors surfacing from raw reads
                if _is_network(e):
                    raise _transport_error(host, e, attempt.expired) from None
                raise


_DRAIN = 64 * 1024  # the most read of an unwanted body (a 401's, a 404's) to keep its connection


def _release(raw: Any, method: str) -> bool:
    """Give the connection back to the pool when its answer is fully read, so
    the next lookup reuses it (one TLS handshake per host, not per tag); a body
    longer than :data:`_DRAIN` closes it instead of being read."""
    if method != 'HEAD':
        rest = raw.read(_DRAIN, decode_content=False)
        if len(rest) >= _DRAIN or raw.read(1, decode_content=False):
            return False
    raw.release_conn()
    return True


def _is_network(e: Exception) -> bool:
    from urllib3.exceptions import HTTPError
    return isinstance(e, (HTTPError, OSError))


def retry_after(resp: Response) -> float | None:
    """The Retry-After in seconds (delta form; an HTTP date is not followed)."""
    value = (resp.header('Retry-After') or '').strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 10 ** 9 else None


def _connect_failure(text: str) -> str:
    """Why a connection could not be made, in words."""
    lowered = text.lower()
    if any(s in lowered for s in ('name or service not known', 'name resolution', 'nodename nor servname', 'getaddrinfo')):
        return 'DNS lookup failed'
    if 'refused' in lowered:
        return 'connection refused'
    if 'unreachable' in lowered:
        return 'network unreachable'
    return ''


def _transport_error(host: str, e: Exception, expired: bool) -> TransportError:
    import requests
    from urllib3.exceptions import NewConnectionError
    from urllib3.exceptions import ProtocolError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout
    if expired:
        return TransportError('timeout', host)
    cause: object = e.args[0] if e.args else None
    cause = getattr(cause, 'reason', cause)
    if isinstance(e, requests.exceptions.SSLError):
        untrusted = 'CERTIFICATE_VERIFY_FAILED' in str(e)
        return TransportError('tls-untrusted' if untrusted else 'tls', host)
    if isinstance(cause, NewConnectionError) or isinstance(e, requests.exceptions.InvalidURL):
        return TransportError('unreachable', host, _connect_failure(str(cause)))
    if isinstance(e, (requests.exceptions.Timeout, Urllib3Timeout, socket.timeout)) or isinstance(cause, Urllib3Timeout):
        return TransportError('timeout', host)
    if isinstance(cause, ProtocolError) or isinstance(e, (requests.exceptions.ChunkedEncodingError, ProtocolError)):
        return TransportError('reset', host)
    if isinstance(e, requests.exceptions.ConnectionError):
        return TransportError('unreachable', host)
    return TransportError('reset', host)
