"""Signatures: pin only what the publisher signed.

``rules`` reads the policy (``[[tool.pin-from.signatures]]``); ``find`` reads
what a registry attaches to a digest (cosign v3 bundles as OCI 1.1 referrers,
legacy ``.sig`` tags); ``verify`` checks one signature with ``cryptography``
(a key) or ``sigstore`` (keyless); ``gate`` puts them together for a run.

Kept light: a run with no signature rules imports none of the submodules but
``rules``, and never ``cryptography`` or ``sigstore``.
"""
