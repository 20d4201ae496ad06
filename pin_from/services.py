"""The run's services, built in one place and passed down: the cache, the HTTP session, the registry
client, the official-images library files and the OSV source.

Each hook's ``run`` builds one :class:`Services` from its :class:`~pin_from.options.Options` and hands
each step the parts it needs; no step calls back into a hook module. The HTTP session, the client and
the sources are made on first use (a steady run makes none of them), once, under a lock.
"""
from __future__ import annotations

import _thread  # a lock without importing threading on every run
from typing import Callable
from typing import TYPE_CHECKING

from pin_from.options import Options
from pin_from.reference import Reference
from pin_from.registry.cache import Cache

if TYPE_CHECKING:
    from pin_from.explain.osv import Source as OsvSource
    from pin_from.registry.client import Client
    from pin_from.registry.http import Http
    from pin_from.support.libraries import Libraries
    from pin_from.support.sources import Fetcher


class Services:
    def __init__(self, opts: Options, note: Callable[[str], None]) -> None:
        self.opts = opts
        self.note = note
        self.cache = Cache(opts.cache_dir, note)
        self._lock = _thread.allocate_lock()
        self._http: Http | None = None
        self._client: Client | None = None
        self._libraries: Libraries | None = None

    def http(self) -> Http:
        """The run's one HTTP session."""
        with self._lock:
            if self._http is None:
                from pin_from.registry.http import Http
                self._http = Http(self.opts.timeout, self.opts.insecure)
            return self._http

    def client(self) -> Client:
        """The run's one registry client (mirrors, insecure registries, credentials)."""
        http = self.http()
        with self._lock:
            if self._client is None:
                from pin_from.registry import client as registry
                from pin_from.registry import credentials
                options = registry.Options(dict(self.opts.mirrors), self.opts.insecure, credentials.Lookup())
                self._client = registry.Client(http, options)
            return self._client

    def fetcher(self, ttl: float) -> Fetcher:
        """Text files (library files, docs notices) through the cache, fresh for ``ttl``."""
        from pin_from.registry.policy import Policy
        from pin_from.support.sources import Fetcher
        return Fetcher(self.cache, Policy(ttl, offline=self.opts.offline), self.http, self.note)

    def libraries(self, ttl: float, snapshot: bool = False) -> Libraries:
        """The official-images library files, each read and parsed once per run; with ``snapshot``,
        the shipped snapshot stands in for a source that cannot be reached (check-deprecated-tags:
        an --update report names no entry from it, which may be older than the image)."""
        with self._lock:
            if self._libraries is None:
                from pin_from.support.libraries import Libraries
                self._libraries = Libraries(
                    self.fetcher(ttl), self.opts.library_url, self.note, fallback=snapshot)
            return self._libraries

    def osv(self) -> OsvSource | None:
        """``--osv`` (or ``PIN_FROM_OSV``): the API through the run's one session, or a directory."""
        if self.opts.osv is None:
            return None
        from pin_from.explain import osv
        return osv.open_source(self.opts.osv, osv.http_calls(self.http()))

    def first_seen(self, ref: Reference, digest: str) -> float | None:
        """When a run first saw ``ref``'s tag name ``digest`` (recorded by --update runs): --min-age's
        evidence, and how a platform pin is told from an index pin."""
        from pin_from.registry.resolve import digest_key
        return self.cache.first_seen(digest_key(ref, digest))

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
