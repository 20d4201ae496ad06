"""The network and the cache: one HTTP session, credentials, the OCI client, manifests, the cache and its policy.

Kept empty: the steady path imports :mod:`pin_from.registry.cache` without the client, HTTP or requests.
"""
