"""A small OCI distribution client: tag -> digest with HEAD, manifests and blobs by digest.

Per registry host, one ``/v2/`` probe finds the auth challenge; per repository,
one token is fetched from the challenge's realm and kept in memory only. Tag
lookups are HEAD requests (Docker Hub does not count HEAD against pull
limits); a GET is made only when a registry omits ``Docker-Content-Digest``,
and its answer must be a manifest. Every request goes through the run's one
:class:`pin_from.registry.http.Http` (deadlines, retries, capped bodies).
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import threading
from typing import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from pin_from import untrusted_json
from pin_from.registry.credentials import Auth
from pin_from.errors import RegistryError
from pin_from.errors import RegistryUnavailable
from pin_from.errors import UsageError
from pin_from.registry.http import BodyError
from pin_from.registry.http import Http
from pin_from.registry.http import Response
from pin_from.registry.http import retry_after
from pin_from.registry.http import RETRY_WAIT_CAP
from pin_from.registry.http import TransportError
from pin_from.registry.manifest import MalformedManifest
from pin_from.registry.manifest import MANIFEST_TYPES
from pin_from.registry.manifest import MAX_MANIFEST
from pin_from.registry.manifest import parse_manifest
from pin_from.reference import DIGEST_RE
from pin_from.reference import DOCKER_HUB
from pin_from.reference import Reference

ACCEPT = ', '.join(MANIFEST_TYPES)
DOCKER_HUB_HOST = 'registry-1.docker.io'
MAX_TOKEN = 64 * 1024
MAX_TAG_PROBE = 64 * 1024  # a one-tag page of a tag list (does the repository exist?)
# A token is sent back as a header: printable ASCII, no spaces or line breaks.
_TOKEN_RE = re.compile(r'[\x21-\x7e]{1,16384}')

Credentials = Callable[[str], 'Auth | tuple[str, str] | None']


class Options(NamedTuple):
    mirrors: dict[str, str]
    insecure: frozenset[str]
    credentials: Credentials | None = None


class Endpoint(NamedTuple):
    """Where a registry's images are looked up (after mirrors)."""

    name: str  # for messages: the registry, or the mirror host
    host: str
    schemes: tuple[str, ...]
    prefix: str  # repository prefix from a mirror's path


def is_loopback(host: str) -> bool:
    try:
        hostname = urlsplit(f'//{host}').hostname or ''
    except ValueError:
        return False
    if hostname == 'localhost':
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


_HOST_RE = re.compile(r'(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?')


def check_host(value: str, option: str) -> str:
    """``HOST[:PORT]`` as given to --insecure-registry (a usage error otherwise)."""
    valid = bool(_HOST_RE.fullmatch(value))
    if valid:
        try:
            urlsplit(f'//{value}').port  # noqa: B018 -- raises on a port out of range
        except ValueError:
            valid = False
    if not valid:
        raise UsageError(f'{option} {value!r}: expected HOST[:PORT], e.g. registry.example:5000')
    return value


def parse_mirror(spec: str, insecure: frozenset[str] = frozenset()) -> tuple[str, str]:
    """``SOURCE=TARGET``, checked once at start: a bad one is a usage error."""
    source, eq, target = (part.strip() for part in spec.partition('='))
    if not eq or not source or not target:
        raise UsageError(f'--registry-mirror {spec!r}: expected SOURCE=TARGET')
    if '://' in target:
        try:
            parts = urlsplit(target)
            parts.port  # noqa: B018 -- raises on a bad port
        except ValueError:
            raise UsageError(f'--registry-mirror {spec!r}: {target!r} is not a valid URL') from None
        if parts.scheme not in ('http', 'https') or not parts.netloc or parts.query or parts.fragment:
            raise UsageError(f'--registry-mirror {spec!r}: expected http(s)://HOST[:PORT][/PATH]')
        host = parts.netloc
        if parts.scheme == 'http' and not is_loopback(host) and host not in insecure:
            raise UsageError(
                f'--registry-mirror {spec!r}: plain HTTP to {host} needs --insecure-registry {host}',
            )
    else:
        host = target.partition('/')[0]
    try:
        check_host(host, 'host')
    except UsageError:
        raise UsageError(f'--registry-mirror {spec!r}: {host!r} is not HOST[:PORT]') from None
    return source, target


def endpoint(registry: str, options: Options) -> Endpoint:
    target = options.mirrors.get(registry)
    if target is None and registry == DOCKER_HUB:
        target = options.mirrors.get('index.docker.io')
    if target is None:
        host = DOCKER_HUB_HOST if registry == DOCKER_HUB else registry
        return Endpoint(registry, host, _schemes(host, options), '')
    if '://' in target:
        parts = urlsplit(target)
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


class NotFound(RegistryError):
    """A 404: the tag or digest does not exist (a definite answer)."""


class Client:
    """Thread-safe: lookups for many references run concurrently on one Http."""

    def __init__(self, http: Http, options: Options) -> None:
        self.http = http
        self.options = options
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
        path = f'/v2/{repo}/manifests/{ref.effective_tag}'
        try:
            resp = self._get(ep, repo, 'HEAD', path, ref)
        except NotFound:
            if self._repository_missing(ep, repo, ref):  # a typo of the name, not of the tag
                raise NotFound(f'repository {_named(ref)} not found{_via(ep, ref)}') from None
            raise
        digest = resp.header('Docker-Content-Digest')
        if digest is None:
            resp = self._get(ep, repo, 'GET', path, ref, MAX_MANIFEST)
            _check_manifest(ep, resp)
            digest = 'sha256:' + hashlib.sha256(resp.body).hexdigest()
        if not DIGEST_RE.fullmatch(digest):
            raise RegistryError(f'{ep.name} answered a malformed digest')
        return digest

    def _repository_missing(self, ep: Endpoint, repo: str, ref: Reference) -> bool:
        """Whether the registry says the repository itself is unknown (a 404, NAME_UNKNOWN, on its
        tag list: a HEAD's 404 has no body to tell). Any other answer: not known to be missing."""
        try:
            self._get(ep, repo, 'GET', f'/v2/{repo}/tags/list?n=1', ref, MAX_TAG_PROBE)
        except NotFound:
            return True
        except RegistryError:
            return False
        return False

    def exists(self, ref: Reference, digest: str) -> bool:
        """Whether the repository still serves the manifest ``digest``.

        A HEAD counts only with a manifest media type and a matching
        ``Docker-Content-Digest`` (a proxy answers 200 ``text/html`` for
        anything); otherwise the manifest is fetched and checked against the
        digest, and an answer that is not it is an error, not "exists".
        """
        ep = endpoint(ref.registry, self.options)
        repo = ep.prefix + ref.repository
        try:
            resp = self._get(ep, repo, 'HEAD', f'/v2/{repo}/manifests/{digest}', ref._replace(digest=digest))
            media_type = (resp.header('Content-Type') or '').split(';')[0].strip()
            if media_type in MANIFEST_TYPES and resp.header('Docker-Content-Digest') == digest:
                return True
            self.manifest(ref, digest)  # the proof by content: hashed, and parsed as a manifest
        except NotFound:
            return False
        return True

    def manifest(self, ref: Reference, digest: str) -> bytes:
        """The manifest ``digest`` of ``ref``'s repository, checked against the
        digest and parsed as an index or image manifest: safe to cache forever."""
        ep = endpoint(ref.registry, self.options)
        resp = self._by_digest(ep, ref, digest, 'manifests', MAX_MANIFEST)
        _check_manifest(ep, resp)
        return resp.body

    def blob(self, ref: Reference, digest: str, cap: int) -> bytes:
        """The blob ``digest`` (at most ``cap`` bytes), checked against the digest."""
        ep = endpoint(ref.registry, self.options)
        return self._by_digest(ep, ref, digest, 'blobs', cap).body

    def referrers(
            self, ref: Reference, digest: str, cap: int, page: str | None = None,
    ) -> tuple[bytes, str | None] | None:
        """One page of the OCI 1.1 referrers of ``digest`` (``GET /v2/<name>/referrers/<digest>``,
        at most ``cap`` bytes) and the path of the next page, if its ``Link`` header names one
        on the same repository's referrers; None when the registry has no referrers API (404)."""
        ep = endpoint(ref.registry, self.options)
        repo = ep.prefix + ref.repository
        first = f'/v2/{repo}/referrers/{digest}'
        try:
            resp = self._get(ep, repo, 'GET', page or first, ref._replace(digest=digest), cap)
        except NotFound:
            return None
        return resp.body, _next_page(resp.header('Link'), first)

    # plumbing

    def _by_digest(self, ep: Endpoint, ref: Reference, digest: str, kind: str, cap: int) -> Response:
        repo = ep.prefix + ref.repository
        resp = self._get(ep, repo, 'GET', f'/v2/{repo}/{kind}/{digest}', ref._replace(digest=digest), cap)
        if 'sha256:' + hashlib.sha256(resp.body).hexdigest() != digest:
            raise RegistryError(f'{ep.name} answered content that does not match {digest}')
        return resp

    def _lock_for(self, key: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(key, threading.Lock())

    def _base(self, ep: Endpoint) -> str:
        """Probe ``/v2/`` once per host: picks the scheme, learns the challenge."""
        with self._lock_for(ep.host):
            if ep.host in self._bases:
                return self._bases[ep.host]
            error: TransportError | None = None
            for scheme in ep.schemes:
                base = f'{scheme}://{ep.host}'
                try:
                    resp = self.http.request('HEAD', f'{base}/v2/', cap=0, read=False)
                except TransportError as e:
                    if e.kind == 'timeout' or e.kind == 'deadline':
                        raise _unavailable(ep, e) from None
                    if error is None or error.kind != 'tls-untrusted':  # that one explains best
                        error = e
                    continue
                if resp.status not in (200, 401, 403) and scheme != ep.schemes[-1]:
                    continue  # e.g. 400 "client sent an HTTP request to an HTTPS server"
                challenge = resp.header('WWW-Authenticate')
                self._challenges[ep.host] = (
                    parse_challenge(challenge) if resp.status == 401 and challenge else None
                )
                self._bases[ep.host] = base
                return base
            assert error is not None
            raise _unavailable(ep, error) from None

    def _get(
            self, ep: Endpoint, repo: str, method: str, path: str, ref: Reference, cap: int = 0,
    ) -> Response:
        base = self._base(ep)
        headers = {'Accept': ACCEPT}
        retried = False
        while True:
            auth = self._authorization(ep, base, repo)
            if auth:
                headers['Authorization'] = auth
            try:
                resp = self.http.request(method, base + path, headers=headers, cap=cap, follow=method == 'GET')
            except TransportError as e:
                raise _unavailable(ep, e) from None
            except BodyError as e:
                raise RegistryError(f'{ep.name} answered {e}') from None
            if resp.status == 401 and not retried:
                retried = True
                challenge = resp.header('WWW-Authenticate')
                if challenge:
                    with self._lock:
                        self._challenges[ep.host] = parse_challenge(challenge)
                        self._tokens.pop((ep.host, repo), None)
                    continue
            if resp.status == 200:
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
            return None if auth is None or auth.basic is None else _basic(auth.basic)
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
        realm = params.get('realm', '')
        try:
            parts = urlsplit(realm)
            parts.port  # noqa: B018 -- raises on a bad port
        except ValueError:
            raise RegistryError(f'{ep.name} sent an unusable token realm') from None
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
                headers = {} if auth is None or auth.basic is None else {'Authorization': _basic(auth.basic)}
                resp = self.http.request('GET', realm, headers=headers, params=query, cap=MAX_TOKEN, follow=True)
        except TransportError as e:
            raise _unavailable(Endpoint(parts.netloc, parts.netloc, (), ''), e) from None
        except BodyError as e:
            raise RegistryError(f'token service for {ep.name} answered {e}') from None
        if resp.status in (401, 403):
            raise RegistryError(f'access denied by {ep.name} (not logged in? run docker login {ep.name})')
        if resp.status == 429 or resp.status >= 500:
            raise RegistryUnavailable(f'token service for {ep.name} answered HTTP {resp.status}')
        if resp.status != 200:
            raise RegistryError(f'token service for {ep.name} answered HTTP {resp.status}')
        return _token_from(resp.body, ep)

    def _oauth_token(self, realm: str, query: dict[str, str], refresh_token: str) -> Response:
        """docker's flow for an identity token: an OAuth2 refresh-token grant."""
        form = {
            **query, 'grant_type': 'refresh_token', 'refresh_token': refresh_token,
            'client_id': 'pin-from',
        }
        # Not redirected: a 307 would re-send the refresh token elsewhere.
        return self.http.request('POST', realm, data=form, cap=MAX_TOKEN, retry=False)


def _basic(user_password: tuple[str, str]) -> str:
    raw = base64.b64encode('{}:{}'.format(*user_password).encode()).decode()
    return f'Basic {raw}'


def _token_from(body: bytes, ep: Endpoint) -> str:
    try:
        payload = untrusted_json.loads(body, MAX_TOKEN)
    except untrusted_json.JSONInputError:
        payload = None
    token = (payload.get('token') or payload.get('access_token')) if isinstance(payload, dict) else None
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise RegistryError(f'token service for {ep.name} answered without a usable token')
    return token


_LINK_RE = re.compile(r'<([^>]{1,2048})>\s*;\s*rel="?next"?')


def _next_page(link: str | None, first: str) -> str | None:
    """The path and query of a ``Link: <...>; rel="next"`` that stays on ``first``."""
    m = _LINK_RE.search(link or '')
    if m is None:
        return None
    try:
        parts = urlsplit(m.group(1))
    except ValueError:
        return None
    if parts.path != first or parts.fragment:
        return None
    return f'{parts.path}?{parts.query}' if parts.query else None


def _check_manifest(ep: Endpoint, resp: Response) -> None:
    """A GET's answer must be a manifest (not a proxy's HTML login page)."""
    try:
        parse_manifest(resp.body, resp.header('Content-Type'))
    except MalformedManifest as e:
        text = str(e)
        raise MalformedManifest(f'{ep.name} {text}' if text.startswith('answered') else f'{ep.name}: {text}') from None


def _may_carry_secrets(url: str, host: str, options: Options) -> bool:
    """HTTPS, or plain HTTP to a loopback or --insecure-registry host."""
    return url.startswith('https:') or is_loopback(host) or host in options.insecure


def _unavailable(ep: Endpoint, e: TransportError) -> RegistryError:
    """The transport failure, named after the registry (TLS: after the host)."""
    tls = e.kind.startswith('tls')
    message = str(TransportError(e.kind, ep.host if tls else ep.name, e.detail))
    return RegistryError(message) if tls else RegistryUnavailable(message)


def _named(ref: Reference) -> str:
    """The repository as the file names it, normalised (``docker.io/library/python``), never the mirror."""
    return f'{ref.registry}/{ref.repository}'


def _via(ep: Endpoint, ref: Reference) -> str:
    """`` (via MIRROR)`` when a mirror answered for the registry."""
    return f' (via {ep.name})' if ep.name != ref.registry else ''


def _status_error(ep: Endpoint, resp: Response, ref: Reference) -> RegistryError:
    status = resp.status
    if status in (401, 403):
        return RegistryError(f'access denied by {ep.name} (not logged in? run docker login {ep.name})')
    if status == 404 and ref.digest:
        return NotFound(f'{ref.digest} not found in {_named(ref)}{_via(ep, ref)}')
    if status == 404:
        return NotFound(f'tag {ref.effective_tag!r} not found in {_named(ref)}{_via(ep, ref)}')
    if status == 429:  # no answer (yet): a cached one may stand in
        remaining = (resp.header('ratelimit-remaining') or '').split(';')[0][:20]
        left = f' (ratelimit-remaining: {remaining})' if remaining else ''
        after = retry_after(resp)
        wait = f'; it asks to wait {after:g} s, more than pin-from waits ({RETRY_WAIT_CAP:g} s)' if (
            after is not None and after > RETRY_WAIT_CAP) else ''
        return RegistryUnavailable(
            f'rate limited by {ep.name}{left}{wait}; log in (docker login) or use --registry-mirror',
        )
    if status >= 500:
        return RegistryUnavailable(f'{ep.name} answered HTTP {status}')
    return RegistryError(f'{ep.name} answered HTTP {status}')
