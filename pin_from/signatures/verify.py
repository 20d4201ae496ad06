"""One signature, checked against one rule: ``cryptography`` for a key, ``sigstore`` for keyless.

What counts as a signature of ``digest``:

- a cosign v3 bundle (Sigstore bundle v0.3) holding a DSSE envelope of an
  in-toto statement whose ``predicateType`` is ``https://sigstore.dev/cosign/sign/v1``
  and one of whose subjects has the sha256 digest ``digest``;
- a legacy simple-signing payload (``critical.type`` "cosign container image
  signature") whose ``critical.image.docker-manifest-digest`` is ``digest``.

The signature is checked first; the signed payload is parsed only then.
Keyless bundles are verified by sigstore-python offline, against the rule's
``trusted-root`` or the Sigstore public-good root pin-from ships
(``trusted_root.json`` here): certificate chain at the log's time, SCT,
identity and issuer, inclusion proof, signed checkpoint and inclusion
promise, and the log entry's agreement with the envelope. A keyed bundle's
transparency-log entries, when it has any, are checked here against the same
root's Rekor keys (inclusion proof, checkpoint, promise, body).

A legacy *keyless* signature carries an inclusion promise but no inclusion
proof, which sigstore-python requires; it is checked here as cosign checks it
offline: the signature with the certificate's key, the promise and the entry
it signs (this payload, signature and certificate), the chain to the root's
Fulcio at the logged time, the SCT, and identity and issuer (sigstore's
``Identity`` policy).

Errors are :class:`Invalid` with one line saying what was wrong.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any
from typing import TYPE_CHECKING

from pin_from.errors import PinFromError
from pin_from.signatures.find import BUNDLE_TYPES
from pin_from.signatures.find import COSIGN_SIGN
from pin_from.signatures.find import Legacy
from pin_from.signatures.find import MAX_PAYLOAD
from pin_from.signatures.rules import Rule

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot

IN_TOTO = 'application/vnd.in-toto+json'
SIMPLE_SIGNING_TYPE = 'cosign container image signature'
MAX_SIGNATURES = 8
MAX_SUBJECTS = 64
MAX_ENTRIES = 4
MAX_PROOF = 64
SHIPPED_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'trusted_root.json')
MAX_ROOT = 1024 * 1024
MAX_JSON = 4 * 1024 * 1024  # any JSON document verified here (a bundle, a payload, a trusted root)


class Invalid(PinFromError):
    """A signature that does not count, and why (one line)."""


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _b64(value: object, what: str, limit: int = 4 * MAX_PAYLOAD) -> bytes:
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f'{what} is missing')
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f'{what} is not base64') from None


def _json(data: bytes, what: str) -> dict[str, Any]:
    from pin_from import untrusted_json
    try:
        return untrusted_json.loads_object(data, MAX_JSON)
    except untrusted_json.JSONInputError as e:
        raise Invalid(f'{what} {e}') from None


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: the bytes a DSSE signature signs."""
    kind = payload_type.encode()
    return b'DSSEv1 %d %s %d %s' % (len(kind), kind, len(payload), payload)


# Keys


_KEYS: dict[str, Any] = {}


def load_key(path: str) -> Any:
    """The rule's PEM public key (EC, RSA or Ed25519), read once per run."""
    if path not in _KEYS:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        try:
            with open(path, 'rb') as f:
                _KEYS[path] = load_pem_public_key(f.read(64 * 1024))
        except (OSError, ValueError, TypeError) as e:
            raise PinFromError(f'the key {path} cannot be read: {str(e)[:120]}') from None
    return _KEYS[path]


def check_signature(key: Any, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``key`` (cosign's schemes)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            digest = hashes.SHA384() if key.curve.key_size == 384 else (
                hashes.SHA512() if key.curve.key_size > 384 else hashes.SHA256())
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            try:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                key.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True


# The signed statement


def check_statement(payload: bytes, digest: str) -> None:
    """A cosign signature statement whose subject is ``digest`` (parsed after the signature check)."""
    statement = _json(payload, 'the signed statement')
    kind = statement.get('_type')
    if not isinstance(kind, str) or not kind.startswith('https://in-toto.io/Statement/'):
        raise Invalid('the signed payload is not an in-toto statement')
    predicate = statement.get('predicateType')
    if predicate != COSIGN_SIGN:
        raise Invalid(f'an attestation ({str(predicate)[:80]}), not a cosign signature')
    subjects = statement.get('subject')
    if not isinstance(subjects, list) or not subjects:
        raise Invalid('the signed statement has no subject')
    hexes = [_obj(_obj(s).get('digest')).get('sha256') for s in subjects[:MAX_SUBJECTS]]
    if digest.partition(':')[2] not in hexes:
        other = next((h for h in hexes if isinstance(h, str)), '?')
        raise Invalid(f'a valid signature of another digest (sha256:{str(other)[:64]})')


def check_simple_signing(payload: bytes, digest: str) -> None:
    doc = _json(payload, 'the signed payload')
    critical = _obj(doc.get('critical'))
    if str(_obj(critical).get('type', '')).lower() != SIMPLE_SIGNING_TYPE:
        raise Invalid('the signed payload is not a cosign simple-signing payload')
    signed = _obj(critical.get('image')).get('docker-manifest-digest')
    if signed != digest:
        raise Invalid(f'a valid signature of another digest ({str(signed)[:71]})')


# Bundles


def _envelope(bundle: dict[str, Any]) -> tuple[bytes, list[bytes]]:
    envelope = _obj(bundle.get('dsseEnvelope'))
    if not envelope:
        raise Invalid('the bundle holds no DSSE envelope (a message signature is not a cosign image signature)')
    if envelope.get('payloadType') != IN_TOTO:
        raise Invalid(f'the envelope holds {str(envelope.get("payloadType"))[:60]!r}, not an in-toto statement')
    payload = _b64(envelope.get('payload'), 'the envelope payload')
    signatures = envelope.get('signatures')
    if not isinstance(signatures, list) or not 0 < len(signatures) <= MAX_SIGNATURES:
        raise Invalid('the envelope has no signatures')
    return payload, [_b64(_obj(s).get('sig'), 'a signature', 4096) for s in signatures]


def _certificate_of(bundle: dict[str, Any]) -> bytes | None:
    material = _obj(bundle.get('verificationMaterial'))
    cert = _obj(material.get('certificate')).get('rawBytes')
    if cert is None:
        chain = _obj(material.get('x509CertificateChain')).get('certificates')
        cert = _obj(chain[0]).get('rawBytes') if isinstance(chain, list) and chain else None
    return None if cert is None else _b64(cert, 'the certificate', 64 * 1024)


def statement_kind(data: bytes) -> str | None:
    """The predicate type of a bundle's statement, unverified (for the report), or None."""
    try:
        payload, _ = _envelope(_json(data, 'the bundle'))
        kind = _json(payload, 'the statement').get('predicateType')
    except Invalid:
        return None
    return kind[:200] if isinstance(kind, str) and kind else None


def signer_of(data: bytes) -> str:
    """Who a bundle says signed it, unverified (for the report where no rule applies)."""
    try:
        bundle = _json(data, 'the bundle')
        der = _certificate_of(bundle)
    except Invalid:
        return 'an unreadable bundle'
    if der is None:
        return 'a key'
    return f'keyless {certificate_identity(der)}'


def certificate_identity(der: bytes) -> str:
    from cryptography import x509
    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.UniformResourceIdentifier) + san.get_values_for_type(x509.RFC822Name)
    except (ValueError, x509.ExtensionNotFound):
        return '(unreadable certificate)'
    return str(names[0])[:300] if names else '(no identity)'


def legacy_signer(found: Legacy) -> str:
    """Who a legacy signature says signed it, unverified (for the report where no rule applies)."""
    if found.certificate is None:
        return 'a key (legacy .sig)'
    try:
        certs = _pem_certificates(found.certificate)
    except Invalid:
        certs = []
    from cryptography.hazmat.primitives.serialization import Encoding
    who = certificate_identity(certs[0].public_bytes(Encoding.DER)) if certs else '(unreadable certificate)'
    return f'keyless {who} (legacy .sig)'


def check_bundle(data: bytes, digest: str, rule: Rule) -> str:
    """Who signed ``digest`` in this bundle, as the rule wants it; raises :class:`Invalid`."""
    bundle = _json(data, 'the bundle')
    if bundle.get('mediaType') not in BUNDLE_TYPES:
        raise Invalid(f'not a Sigstore bundle v0.3 ({str(bundle.get("mediaType"))[:60]})')
    der = _certificate_of(bundle)
    if rule.key is not None:
        if der is not None:
            raise Invalid(f'signed keyless by {certificate_identity(der)}, not with the key')
        payload, signatures = _envelope(bundle)
        key = load_key(rule.key)
        signed = pae(IN_TOTO, payload)
        good = next((s for s in signatures if check_signature(key, s, signed)), None)
        if good is None:
            raise Invalid('a signature that does not verify with the key')
        entries = _obj(bundle.get('verificationMaterial')).get('tlogEntries')
        if entries:
            check_log_entries(entries, payload, good, trusted_root_json(rule.trusted_root))
        check_statement(payload, digest)
        return f'the key {os.path.basename(rule.key)}'
    if der is None:
        raise Invalid('signed with a key, not keyless')
    payload = _keyless(data, rule)
    check_statement(payload, digest)
    return f'{certificate_identity(der)} (issuer {rule.issuer})'


_ROOTS: dict[str, Any] = {}


def trusted_root(path: str | None) -> TrustedRoot:
    """The rule's trusted root, or the one pin-from ships; read once per run."""
    path = path or SHIPPED_ROOT
    if path not in _ROOTS:
        from sigstore.models import TrustedRoot
        try:
            _ROOTS[path] = TrustedRoot.from_file(path)
        except (OSError, ValueError) as e:
            raise PinFromError(f'the trusted root {path} cannot be read: {str(e)[:160]}') from None
    root: TrustedRoot = _ROOTS[path]
    return root


def trusted_root_json(path: str | None) -> dict[str, Any]:
    path = path or SHIPPED_ROOT
    try:
        with open(path, 'rb') as f:
            return _json(f.read(MAX_ROOT), f'the trusted root {path}')
    except OSError as e:
        raise PinFromError(f'the trusted root {path} cannot be read: {(e.strerror or str(e)).lower()}') from None


def identity_policy(rule: Rule) -> Any:
    """sigstore-python's policy for the rule: ``Identity`` (the identity is one of the
    certificate's SANs, and its OIDC issuer extension is the issuer), or the same with a
    regular expression the whole SAN must match (``identity-regexp``)."""
    from sigstore.verify.policy import Identity
    from sigstore.verify.policy import OIDCIssuer
    assert rule.issuer is not None
    if rule.identity_regexp is None:
        assert rule.identity is not None
        return Identity(identity=rule.identity, issuer=rule.issuer)
    return _IdentityMatching(rule.identity_regexp, OIDCIssuer(rule.issuer))


class _IdentityMatching:
    """A sigstore ``VerificationPolicy``: the issuer extension, then a SAN the pattern fully matches."""

    def __init__(self, pattern: str, issuer: Any) -> None:
        import re
        self.pattern = re.compile(pattern)
        self.issuer = issuer

    def verify(self, cert: Any) -> None:
        from cryptography import x509
        from sigstore.errors import VerificationError
        self.issuer.verify(cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.UniformResourceIdentifier) + san.get_values_for_type(x509.RFC822Name)
        if not any(self.pattern.fullmatch(str(n)[:1024]) for n in names[:16]):
            raise VerificationError(f"Certificate's SANs do not match {self.pattern.pattern}")


def _keyless(data: bytes, rule: Rule) -> bytes:
    try:
        import sigstore  # noqa: F401 -- Python 3.10+ only
    except ImportError:
        raise PinFromError('keyless rules need sigstore (pip install sigstore; Python 3.10 or later)') from None
    from sigstore.errors import Error
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity
    root = trusted_root(rule.trusted_root)
    try:
        bundle = Bundle.from_json(data)
    except (Error, ValueError, TypeError, KeyError, IndexError) as e:
        raise Invalid(f'the bundle is malformed: {_first_line(e)}') from None
    try:
        kind, payload = Verifier(trusted_root=root).verify_dsse(bundle, identity_policy(rule))
    except (Error, ValueError, TypeError, KeyError, IndexError) as e:
        raise Invalid(_why_keyless(e, bundle)) from None
    if kind != IN_TOTO:
        raise Invalid(f'the envelope holds {kind[:60]!r}, not an in-toto statement')
    return payload


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


def _why_keyless(e: BaseException, bundle: Any) -> str:
    text = _first_line(e)
    if "SANs do not match" in text or 'OIDC issuer' in text or 'ExtensionNotFound' in text:
        try:
            from cryptography.hazmat.primitives.serialization import Encoding
            who = certificate_identity(bundle.signing_certificate.public_bytes(Encoding.DER))
        except (ValueError, AttributeError):
            who = '(unreadable certificate)'
        return f'signed by another identity: {who}' if 'SAN' in text else f'signed by another issuer ({who})'
    return f'keyless verification failed: {text}'


# Transparency-log entries of keyed bundles (Rekor v1: dsse 0.0.1)


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b'\x00' + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b'\x01' + left + right).digest()


def merkle_root(leaf: bytes, index: int, size: int, proof: list[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root an inclusion proof leads to."""
    if not 0 <= index < size:
        raise Invalid('the inclusion proof has an index outside its tree')
    fn, sn, node = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid('the inclusion proof is too long')
        if fn & 1 or fn == sn:
            node = _node(p, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = _node(node, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid('the inclusion proof is too short')
    return node


def _int(value: object, what: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise Invalid(f'the log entry {what} is not a number') from None
    if number < 0 or number >= 1 << 63:
        raise Invalid(f'the log entry {what} is out of range')
    return number


def _checkpoint(envelope: object, key: Any, log_id: bytes, size: int, root_hash: bytes) -> None:
    if not isinstance(envelope, str) or len(envelope) > 16 * 1024 or envelope.count('\n\n') != 1:
        raise Invalid('the log entry has no signed checkpoint')
    note, _, signatures = envelope.partition('\n\n')
    note += '\n'
    lines = note.split('\n')
    if len(lines) < 4 or lines[1] != str(size) or lines[2] != base64.b64encode(root_hash).decode():
        raise Invalid('the checkpoint does not match the inclusion proof')
    for line in signatures.splitlines():
        parts = line.split(' ')
        if len(parts) != 3 or parts[0] != '\u2014':
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        if raw[:4] == log_id[:4] and check_signature(key, raw[4:], note.encode()):
            return
    raise Invalid('the checkpoint is not signed by the transparency log')


def _check_entry(entry: dict[str, Any], payload: bytes, signature: bytes, keys: dict[bytes, Any]) -> None:
    log_id = _b64(_obj(entry.get('logId')).get('keyId'), 'the log id')
    key = keys.get(log_id)
    if key is None:
        raise Invalid('the log entry is from a transparency log the trusted root does not know')
    body = _b64(entry.get('canonicalizedBody'), 'the log entry body')
    spec = _obj(_json(body, 'the log entry body').get('spec'))
    if _obj(spec.get('payloadHash')).get('value') != hashlib.sha256(payload).hexdigest():
        raise Invalid('the log entry is for another payload')
    recorded = spec.get('signatures')
    if not any(_obj(s).get('signature') == base64.b64encode(signature).decode()
               for s in (recorded[:MAX_SIGNATURES] if isinstance(recorded, list) else ())):
        raise Invalid('the log entry records another signature')
    proof = _obj(entry.get('inclusionProof'))
    hashes = proof.get('hashes') or []
    if not isinstance(hashes, list) or len(hashes) > MAX_PROOF:
        raise Invalid('the log entry has no usable inclusion proof')
    index, size = _int(proof.get('logIndex'), 'index'), _int(proof.get('treeSize'), 'tree size')
    root_hash = _b64(proof.get('rootHash'), 'the inclusion proof root')
    if merkle_root(_leaf(body), index, size, [_b64(h, 'a proof hash', 100) for h in hashes]) != root_hash:
        raise Invalid('the inclusion proof does not lead to its root')
    _checkpoint(_obj(proof.get('checkpoint')).get('envelope'), key, log_id, size, root_hash)
    promise = _obj(entry.get('inclusionPromise')).get('signedEntryTimestamp')
    if promise is not None:
        canonical = json.dumps({
            'body': base64.b64encode(body).decode(), 'integratedTime': _int(entry.get('integratedTime'), 'time'),
            'logID': log_id.hex(), 'logIndex': _int(entry.get('logIndex'), 'index'),
        }, sort_keys=True, separators=(',', ':')).encode()
        if not check_signature(key, _b64(promise, 'the inclusion promise', 4096), canonical):
            raise Invalid('the inclusion promise is not signed by the transparency log')


def check_log_entries(entries: object, payload: bytes, signature: bytes, root: dict[str, Any]) -> None:
    """Every transparency-log entry of a keyed bundle agrees with it and is in the log."""
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise Invalid('the bundle has an unusable list of log entries')
    keys = _log_keys(root, 'tlogs')
    for entry in entries:
        _check_entry(_obj(entry), payload, signature, keys)


# Legacy simple signing


def check_legacy(found: Legacy, digest: str, rule: Rule) -> str:
    if found.certificate is not None:
        if rule.key is not None:
            raise Invalid('signed keyless (a legacy certificate), not with the key')
        who = _legacy_keyless(found, rule)
        check_simple_signing(found.payload, digest)
        return f'{who} (issuer {rule.issuer})'
    if rule.key is None:
        raise Invalid('signed with a key, not keyless')
    signature = _b64(found.signature, 'the signature annotation', 4096)
    if not check_signature(load_key(rule.key), signature, found.payload):
        raise Invalid('a signature that does not verify with the key')
    check_simple_signing(found.payload, digest)
    return f'the key {os.path.basename(rule.key)}'


# Legacy keyless: what cosign checks offline (the inclusion promise; there is no inclusion proof)


def _log_keys(root: dict[str, Any], kind: str) -> dict[bytes, Any]:
    """``tlogs`` (Rekor) or ``ctlogs`` keys of a trusted root, by log id."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key
    keys = {}
    logs = root.get(kind)
    for log in logs[:16] if isinstance(logs, list) else ():
        log = _obj(log)
        try:
            keys[_b64(_obj(log.get('logId')).get('keyId'), 'a log id')] = load_der_public_key(
                _b64(_obj(log.get('publicKey')).get('rawBytes'), 'a log key'))
        except (Invalid, ValueError):
            continue
    return keys


def _pem_certificates(text: str | None) -> list[Any]:
    from cryptography import x509
    if not text:
        return []
    try:
        return list(x509.load_pem_x509_certificates(text.encode()))[:8]
    except ValueError:
        raise Invalid('the certificate chain annotation is not PEM') from None


def _check_sct(cert: Any, issuer: Any, keys: dict[bytes, Any]) -> None:
    """The certificate's embedded SCT (RFC 6962 3.2, a precertificate entry) is signed by a
    CT log of the trusted root."""
    import datetime
    import struct
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    try:
        scts = cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    except x509.ExtensionNotFound:
        raise Invalid('the certificate has no SCT (it was not logged by a CT log)') from None
    if len(scts) != 1:
        raise Invalid('the certificate has more than one SCT')
    sct = scts[0]
    key = keys.get(sct.log_id)
    if key is None:
        raise Invalid('the certificate\'s SCT is from a CT log the trusted root does not know')
    issuer_id = hashlib.sha256(issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    tbs = cert.tbs_precertificate_bytes
    epoch = datetime.datetime(1970, 1, 1)
    millis = (sct.timestamp.replace(tzinfo=None) - epoch) // datetime.timedelta(milliseconds=1)
    signed = (struct.pack('!BBQH', sct.version.value, 0, millis, 1) + issuer_id + len(tbs).to_bytes(3, 'big') + tbs
              + struct.pack('!H', len(sct.extension_bytes)) + sct.extension_bytes)
    if not check_signature(key, sct.signature, signed):
        raise Invalid('the certificate\'s SCT does not verify')


def _check_promise(rekor: str | None, payload: bytes, signature: bytes, cert_der: bytes,
                   root: dict[str, Any]) -> int:
    """The Rekor bundle: signed by a log of the trusted root, recording this payload, signature and
    certificate. Returns the time the log recorded it."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    if rekor is None:
        raise Invalid('a legacy keyless signature without a Rekor bundle (no transparency-log proof)')
    bundle = _json(rekor.encode(), 'the Rekor bundle')
    entry = _obj(bundle.get('Payload'))
    log_id_hex = entry.get('logID')
    try:
        log_id = bytes.fromhex(log_id_hex) if isinstance(log_id_hex, str) else b''
    except ValueError:
        log_id = b''
    key = _log_keys(root, 'tlogs').get(log_id)
    if key is None:
        raise Invalid('the Rekor bundle is from a transparency log the trusted root does not know')
    body = _b64(entry.get('body'), 'the Rekor entry body')
    integrated = _int(entry.get('integratedTime'), 'time')
    canonical = json.dumps({
        'body': base64.b64encode(body).decode(), 'integratedTime': integrated,
        'logID': log_id.hex(), 'logIndex': _int(entry.get('logIndex'), 'index'),
    }, sort_keys=True, separators=(',', ':')).encode()
    if not check_signature(key, _b64(bundle.get('SignedEntryTimestamp'), 'the inclusion promise', 4096), canonical):
        raise Invalid('the inclusion promise is not signed by the transparency log')
    spec = _obj(_json(body, 'the Rekor entry body').get('spec'))
    if _obj(_obj(spec.get('data')).get('hash')).get('value') != hashlib.sha256(payload).hexdigest():
        raise Invalid('the log entry is for another payload')
    recorded = _obj(spec.get('signature'))
    if _b64(recorded.get('content'), 'the logged signature', 4096) != signature:
        raise Invalid('the log entry records another signature')
    logged = _b64(_obj(recorded.get('publicKey')).get('content'), 'the logged certificate', 64 * 1024)
    try:
        same = x509.load_pem_x509_certificate(logged).public_bytes(Encoding.DER) == cert_der
    except ValueError:
        same = False
    if not same:
        raise Invalid('the log entry records another certificate')
    return integrated


def _legacy_keyless(found: Legacy, rule: Rule) -> str:
    """A legacy keyless signature, checked offline as cosign does: the signature with the
    certificate's key, the log's inclusion promise and entry, the certificate chain to the trusted
    root's Fulcio at the time the log recorded it, its SCT, and the rule's identity and issuer."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store
    from cryptography.x509.verification import VerificationError as ChainError
    try:
        import sigstore  # noqa: F401 -- Python 3.10+ only
    except ImportError:
        raise PinFromError('keyless rules need sigstore (pip install sigstore; Python 3.10 or later)') from None
    from sigstore.errors import Error
    assert found.certificate is not None
    certs = _pem_certificates(found.certificate)
    if not certs:
        raise Invalid('the certificate annotation is not PEM')
    cert = certs[0]
    der = cert.public_bytes(Encoding.DER)
    signature = _b64(found.signature, 'the signature annotation', 4096)
    if not check_signature(cert.public_key(), signature, found.payload):
        raise Invalid('a signature that does not verify with its certificate')
    root_json = trusted_root_json(rule.trusted_root)
    when = _check_promise(found.rekor, found.payload, signature, der, root_json)
    moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise Invalid('the certificate was not valid when the log recorded the signature')
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None)
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None)
    try:
        verifier = (PolicyBuilder().store(Store(trusted_root(rule.trusted_root).get_fulcio_certs())).time(moment)
                    .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy).build_client_verifier())
        chain = verifier.verify(cert, _pem_certificates(found.chain)).chain
    except (ChainError, x509.UnsupportedGeneralNameType, ValueError) as e:
        raise Invalid(f'the certificate does not chain to the trusted root: {_first_line(e)}') from None
    _check_sct(cert, chain[1], _log_keys(root_json, 'ctlogs'))
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        code_signing = x509.oid.ExtendedKeyUsageOID.CODE_SIGNING in cert.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage, code_signing = None, False
    if usage is None or not usage.digital_signature or not code_signing:
        raise Invalid('the certificate is not a code-signing certificate')
    try:
        identity_policy(rule).verify(cert)
    except (Error, ValueError, x509.ExtensionNotFound) as e:
        text = _first_line(e)
        raise Invalid(f'signed by another identity: {certificate_identity(der)}' if 'SAN' in text
                      else f'signed by another issuer ({certificate_identity(der)}): {text}') from None
    return certificate_identity(der)
