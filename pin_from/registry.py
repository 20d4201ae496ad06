"""A small OCI distribution client: tag -> digest with HEAD, and auth.

One ``requests`` session per run. Per registry host, one ``/v2/`` probe finds
the auth challenge; per repository, one token is fetched from the challenge's
realm and kept in memory only. Tag lookups are HEAD requests (Docker Hub does
not count HEAD against pull limits); a GET is made only when a registry omits
``Docker-Content-Digest``.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import threading
from typing import Any
from typing import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from pin_from.credentials import Auth
from pin_from.errors import RegistryError
from pin_from.errors import RegistryUnavailable
from pin_from.reference import DIGEST_RE
from pin_from.reference import DOCKER_HUB
from pin_from.reference import Reference

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ', '.join(MANIFEST_TYPES)
DOCKER_HUB_HOST = 'registry-1.docker.io'
MAX_BODY = 4 * 1024 * 1024
RETRY_AFTER_CAP = 60.0
RETRY_BACKOFF = 0.3  # seconds: retries wait 0, 0.6, 1.2 (tests shorten it)

Credentials = Callable[[str], 'Auth | tuple[str, str] | None']


class Options(NamedTuple):
    mirrors: dict[str, str]
    insecure: frozenset[str]
    timeout: float
    credentials: Credentials | None = None


class Endpoint(NamedTuple):
    """Where a registry's images are looked up (after mirrors)."""

    name: str  # for messages: the registry, or the mirror host
    host: str
    schemes: tuple[str, ...]
    prefix: str  # repository prefix from a mirror's path


def is_loopback(host: str) -> bool:
    hostname = urlsplit(f'//{host}').hostname or ''
    if hostname == 'localhost':
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def parse_mirror(spec: str) -> tuple[str, str]:
    source, eq, target = spec.partition('=')
    if not eq or not source or not target:
        raise RegistryError(f'--registry-mirror {spec!r}: expected SOURCE=TARGET')
    return source.strip(), target.strip()


def endpoint(registry: str, options: Options) -> Endpoint:
    target = options.mirrors.get(registry)
    if target is None and registry == DOCKER_HUB:
        target = options.mirrors.get('index.docker.io')
    if target is None:
        host = DOCKER_HUB_HOST if registry == DOCKER_HUB else registry
        return Endpoint(registry, host, _schemes(host, options), '')
    if '://' in target:
        parts = urlsplit(target)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise RegistryError(f'mirror {target!r}: expected http(s)://HOST[/PATH]')
        host, path = parts.netloc, parts.path
        schemes: tuple[str, ...] = (parts.scheme,)
    else:
        host, _, path = target.partition('/')
        schemes = _schemes(host, options)
    prefix = path.strip('/')
    return Endpoint(host, host, schemes, f'{prefix}/' if prefix else '')


def _schemes(host: str, options: Options) -> tuple[str, ...]:
    """Schemes to try, in order. Loopback registries are nearly always plain
    HTTP (``registry:2`` on localhost), so HTTP goes first there and saves a
    failed TLS handshake on every cold run; an HTTPS-only one answers HTTP
    with 400 and is then reached over HTTPS."""
    if is_loopback(host):
        return ('http', 'https')
    if host in options.insecure:
        return ('https', 'http')
    return ('https',)


_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(' ')
    return scheme.lower(), dict(_CHALLENGE_RE.findall(rest))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or '', parts.port or {'http': 80, 'https': 443}.get(parts.scheme)


def _session(insecure: frozenset[str] = frozenset()) -> Any:
    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import MaxRetryError
    from urllib3.exceptions import ResponseError
    from urllib3.util.retry import Retry

    class CappedRetry(Retry):
        def increment(
                self, method: str | None = None, url: str | None = None, response: Any = None,
                error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None,
        ) -> CappedRetry:
            # Waiting for a Retry-After past the cap would stall a commit: give up now.
            after = None if response is None else self.get_retry_after(response)
            if after is not None and after > RETRY_AFTER_CAP:
                raise MaxRetryError(_pool, url, ResponseError(f'Retry-After {after:g} s'))
            return super().increment(method, url, response, error, _pool, _stacktrace)

    class Session(requests.Session):
        def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
            # A redirect (blob downloads go to object stores) keeps our
            # Authorization only on the same origin; never adds ~/.netrc's.
            if _origin(prepared_request.url) != _origin(response.request.url):
                prepared_request.headers.pop('Authorization', None)

    class NoNetrc(requests.auth.AuthBase):
        def __call__(self, request: Any) -> Any:
            return request  # credentials come from Docker's config only

    class Adapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if urlsplit(request.url).netloc in insecure:
                kwargs['verify'] = False  # as Docker's insecure-registries
            return super().send(request, *args, **kwargs)

    if insecure:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    retry = CappedRetry(
        total=3, connect=3, read=2, other=0, backoff_factor=RETRY_BACKOFF,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset(('HEAD', 'GET')),
        respect_retry_after_header=True, raise_on_status=False,
    )
    session = Session()
    session.auth = NoNetrc()
    adapter = Adapter(max_retries=retry, pool_maxsize=32)
    session.mount('https://', adapter)
    session.mount('http://', adapter)
    session.headers['User-Agent'] = 'pin-from/0.1'
    return session


class Client:
    """Thread-safe: lookups for many references run concurrently."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.session = _session(options.insecure)
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._bases: dict[str, str] = {}
        self._challenges: dict[str, tuple[str, dict[str, str]] | None] = {}
        self._tokens: dict[tuple[str, str], str] = {}

    # public API

    def digest(self, ref: Reference) -> str:
        """The digest the registry serves for ``ref``'s tag (index digest for multi-arch)."""
        ep = endpoint(ref.registry, self.options)
        repo = ep.prefix + ref.repository
        ref = ref._replace(digest=None)  # the tag is what is asked about
        resp = self._get(ep, repo, 'HEAD', f'/v2/{repo}/manifests/{ref.effective_tag}', ref)
        digest = resp.headers.get('Docker-Content-Digest')
        if digest is None:
            resp = self._get(ep, repo, 'GET', f'/v2/{repo}/manifests/{ref.effective_tag}', ref)
            digest = 'sha256:' + hashlib.sha256(_body(resp, ep)).hexdigest()
        if not DIGEST_RE.fullmatch(digest):
            raise RegistryError(f'{ep.name} answered a malformed digest')
        return digest

    def fetch(self, ref: Reference, digest: str, kind: str = 'manifests') -> bytes:
        """GET a manifest or blob (``kind='blobs'``) of ``ref``'s repository by digest.

        The content is checked against the digest, so it can be cached forever.
        """
        ep = endpoint(ref.registry, self.options)
        repo = ep.prefix + ref.repository
        resp = self._get(ep, repo, 'GET', f'/v2/{repo}/{kind}/{digest}', ref._replace(digest=digest))
        data = _body(resp, ep)
        if 'sha256:' + hashlib.sha256(data).hexdigest() != digest:
            raise RegistryError(f'{ep.name} answered content that does not match {digest}')
        return data

    def close(self) -> None:
        self.session.close()

    # plumbing

    def _lock_for(self, key: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(key, threading.Lock())

    def _base(self, ep: Endpoint) -> str:
        """Probe ``/v2/`` once per host: picks the scheme, learns the challenge."""
        with self._lock_for(ep.host):
            if ep.host in self._bases:
                return self._bases[ep.host]
            import requests
            error: Exception | None = None
            for scheme in ep.schemes:
                base = f'{scheme}://{ep.host}'
                try:
                    resp = self.session.head(f'{base}/v2/', timeout=self.options.timeout)
                except (requests.exceptions.SSLError, requests.exceptions.ConnectionError) as e:
                    if not _untrusted_certificate(error):  # that one explains best
                        error = e
                    continue
                except requests.exceptions.RequestException as e:
                    raise _network_error(ep, e) from None
                if resp.status_code not in (200, 401, 403) and scheme != ep.schemes[-1]:
                    continue  # e.g. 400 "client sent an HTTP request to an HTTPS server"
                challenge = resp.headers.get('WWW-Authenticate')
                self._challenges[ep.host] = (
                    parse_challenge(challenge) if resp.status_code == 401 and challenge else None
                )
                self._bases[ep.host] = base
                return base
            assert error is not None
            raise _network_error(ep, error) from None

    def _get(self, ep: Endpoint, repo: str, method: str, path: str, ref: Reference) -> Any:
        import requests
        base = self._base(ep)
        headers = {'Accept': ACCEPT}
        retried = False
        while True:
            auth = self._authorization(ep, base, repo)
            if auth:
                headers['Authorization'] = auth
            try:
                resp = self.session.request(
                    method, base + path, headers=headers, allow_redirects=method == 'GET',
                    timeout=self.options.timeout, stream=method == 'GET',
                )
            except requests.exceptions.RequestException as e:
                raise _network_error(ep, e) from None
            if resp.status_code == 401 and not retried:
                retried = True
                challenge = resp.headers.get('WWW-Authenticate')
                if challenge:
                    with self._lock:
                        self._challenges[ep.host] = parse_challenge(challenge)
                        self._tokens.pop((ep.host, repo), None)
                    continue
            if resp.status_code == 200:
                return resp
            raise _status_error(ep, resp, ref)

    def _authorization(self, ep: Endpoint, base: str, repo: str) -> str | None:
        challenge = self._challenges.get(ep.host)
        if challenge is None:
            return None
        scheme, params = challenge
        auth = self._credentials(ep, base)
        if auth is not None and auth.registry_token:
            return f'Bearer {auth.registry_token}'  # docker's registrytoken: sent as is
        if scheme == 'basic':
            if auth is None or auth.basic is None:
                return None
            import base64
            raw = base64.b64encode('{}:{}'.format(*auth.basic).encode()).decode()
            return f'Basic {raw}'
        if scheme == 'bearer':
            return f'Bearer {self._token(ep, base, repo, params)}'
        return None

    def _credentials(self, ep: Endpoint, base: str) -> Auth | None:
        """``ep.host``'s credentials, if they may travel to ``base``.

        Never over plain HTTP, except to a loopback or --insecure-registry
        host; looked up (a helper run) only when this is a challenge answer.
        """
        lookup = self.options.credentials
        if lookup is None or not _may_carry_secrets(base, ep.host, self.options):
            return None
        found = lookup(ep.host)
        return found if found is None or isinstance(found, Auth) else Auth(*found)

    def _token(self, ep: Endpoint, base: str, repo: str, params: dict[str, str]) -> str:
        key = (ep.host, repo)
        with self._lock_for(f'token:{ep.host}/{repo}'):
            if key in self._tokens:
                return self._tokens[key]
            token = self._fetch_token(ep, base, repo, params)
            with self._lock:
                self._tokens[key] = token
            return token

    def _fetch_token(self, ep: Endpoint, base: str, repo: str, params: dict[str, str]) -> str:
        import requests
        realm = params.get('realm', '')
        parts = urlsplit(realm)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise RegistryError(f'{ep.name} sent an unusable token realm')
        if parts.scheme == 'http' and base.startswith('https:') and not is_loopback(parts.netloc):
            raise RegistryError(f'{ep.name} sent a plain-HTTP token realm for an HTTPS registry; refused')
        query = {'scope': f'repository:{repo}:pull'}
        if 'service' in params:
            query['service'] = params['service']
        # The registry's credentials go to the realm its challenge names.
        auth = self._credentials(ep, base) if _may_carry_secrets(realm, parts.netloc, self.options) else None
        try:
            if auth is not None and auth.identity_token:
                resp = self._oauth_token(realm, query, auth.identity_token)
            else:
                basic = auth.basic if auth is not None else None
                resp = self.session.get(realm, params=query, auth=basic, timeout=self.options.timeout)
        except requests.exceptions.RequestException as e:
            raise _network_error(Endpoint(parts.netloc, parts.netloc, (), ''), e) from None
        if resp.status_code in (401, 403):
            raise RegistryError(f'access denied by {ep.name} (not logged in? run docker login {ep.name})')
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RegistryUnavailable(f'token service for {ep.name} answered HTTP {resp.status_code}')
        if resp.status_code != 200:
            raise RegistryError(f'token service for {ep.name} answered HTTP {resp.status_code}')
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        token = (payload.get('token') or payload.get('access_token')) if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token or any(c in token for c in '\r\n'):
            raise RegistryError(f'token service for {ep.name} answered without a usable token')
        return token

    def _oauth_token(self, realm: str, query: dict[str, str], refresh_token: str) -> Any:
        """docker's flow for an identity token: an OAuth2 refresh-token grant."""
        form = {
            **query, 'grant_type': 'refresh_token', 'refresh_token': refresh_token,
            'client_id': 'pin-from',
        }
        # Not redirected: a 307 would re-send the refresh token elsewhere.
        return self.session.post(realm, data=form, timeout=self.options.timeout, allow_redirects=False)


def _body(resp: Any, ep: Endpoint) -> bytes:
    data = resp.raw.read(MAX_BODY + 1, decode_content=True)
    resp.close()
    if len(data) > MAX_BODY:
        raise RegistryError(f'{ep.name} answered an oversized manifest')
    return bytes(data)


def _may_carry_secrets(url: str, host: str, options: Options) -> bool:
    """HTTPS, or plain HTTP to a loopback or --insecure-registry host."""
    return url.startswith('https:') or is_loopback(host) or host in options.insecure


def _untrusted_certificate(e: BaseException | None) -> bool:
    return e is not None and 'CERTIFICATE_VERIFY_FAILED' in str(e)


def _network_error(ep: Endpoint, e: Exception) -> RegistryError:
    import requests
    from urllib3.exceptions import NewConnectionError
    from urllib3.exceptions import ProtocolError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout
    # After retries requests wraps urllib3's MaxRetryError: the last failure is its reason.
    cause = e.args[0] if e.args else None
    cause = getattr(cause, 'reason', cause)
    if isinstance(e, requests.exceptions.SSLError):
        if _untrusted_certificate(e):
            return RegistryError(
                f'TLS error talking to {ep.host}: certificate not trusted; point REQUESTS_CA_BUNDLE '
                f'at its CA certificate, or pass --insecure-registry {ep.host}',
            )
        return RegistryError(
            f'TLS error talking to {ep.host}; if it serves plain HTTP, pass --insecure-registry {ep.host}',
        )
    if isinstance(cause, NewConnectionError):
        return RegistryUnavailable(f'cannot reach {ep.name}')
    if isinstance(e, requests.exceptions.Timeout) or isinstance(cause, Urllib3Timeout):
        return RegistryUnavailable(f'{ep.name} did not answer in time (--timeout)')
    if isinstance(e, requests.exceptions.RetryError):
        return RegistryUnavailable(f'{ep.name} kept failing after retries')
    if isinstance(cause, ProtocolError) or isinstance(e, requests.exceptions.ChunkedEncodingError):
        return RegistryUnavailable(f'{ep.name} dropped the connection')
    return RegistryUnavailable(f'cannot reach {ep.name}')


def _status_error(ep: Endpoint, resp: Any, ref: Reference) -> RegistryError:
    status = resp.status_code
    if status in (401, 403):
        return RegistryError(f'access denied by {ep.name} (not logged in? run docker login {ep.name})')
    if status == 404 and ref.digest:
        return RegistryError(f'{ref.digest} not found in {ep.name}')
    if status == 404:
        return RegistryError(f'tag {ref.effective_tag!r} not found in {ep.name}')
    if status == 429:  # no answer (yet): a cached one may stand in
        remaining = resp.headers.get('ratelimit-remaining')
        left = f' (ratelimit-remaining: {remaining.split(";")[0]})' if remaining else ''
        return RegistryUnavailable(
            f'rate limited by {ep.name}{left}; log in (docker login) or use --registry-mirror',
        )
    if status >= 500:
        return RegistryUnavailable(f'{ep.name} answered HTTP {status}')
    return RegistryError(f'{ep.name} answered HTTP {status}')
