"""Real cosign-style signatures for tests: keys, a test Sigstore trusted root, bundles, legacy .sig.

Nothing here is a stub: every signature is made with ``cryptography`` and
verifies with the same code a real one does.

* :class:`KeyPair`: an ECDSA P-256 key as cosign makes (``cosign generate-key-pair``),
  its public PEM written where a policy names it.
* :class:`TestSigstore`: a private Sigstore instance: a Fulcio-like CA (root
  certificate), a CT log key (the SCT embedded in every leaf certificate) and a
  Rekor key (checkpoint, inclusion promise). :meth:`TestSigstore.trusted_root`
  is the ``trusted_root.json`` sigstore-python verifies against; leaf
  certificates carry the identity (SAN URI) and issuer extensions Fulcio sets.
  The transparency log is a tree of one entry (index 0, size 1), so the
  inclusion proof is the leaf hash itself: real Merkle, real signed note.
* :func:`statement`, :func:`dsse_bundle`, :func:`simple_signing`: the payloads
  cosign v3 and legacy cosign sign, laid out the way cosign lays them out.
* :func:`push_bundle`, :func:`push_legacy_signature`: put them into a registry
  (as an OCI 1.1 referrer plus the ``sha256-<hex>`` referrers tag, or as the
  legacy ``sha256-<hex>.sig`` tag).

Like ``tests/registry_server.py`` this module does not import pytest.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from tests import registry_server as rs

BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'
IN_TOTO = 'application/vnd.in-toto+json'
COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1'
SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json'
EMPTY = 'application/vnd.oci.empty.v1+json'
SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature'
OIDC_ISSUER_V1 = ObjectIdentifier('1.3.6.1.4.1.57264.1.1')
OIDC_ISSUER_V2 = ObjectIdentifier('1.3.6.1.4.1.57264.1.8')
SCT_LIST = ObjectIdentifier('1.3.6.1.4.1.11129.2.4.2')
GITHUB = 'https://token.actions.githubusercontent.com'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    return hashlib.sha256(spki(key)).digest()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode()
    return b'DSSEv1 %d %s %d %s' % (len(kind), kind, len(payload), payload)


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


class KeyPair:
    """An ECDSA P-256 signing key (cosign's default)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
        )

    def write_public(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.public_pem)
        return path

    def sign(self, data: bytes) -> bytes:
        return sign(self.private, data)


def statement(digest: str, name: str = 'image', predicate_type: str = COSIGN_SIGN) -> bytes:
    """The in-toto statement cosign v3 signs for an image: its digest as the subject."""
    algorithm, _, hexdigest = digest.partition(':')
    return json.dumps({
        '_type': 'https://in-toto.io/Statement/v1',
        'subject': [{'name': name, 'digest': {algorithm: hexdigest}}],
        'predicateType': predicate_type,
        'predicate': {},
    }).encode()


def simple_signing(digest: str, reference: str = 'registry.test/image') -> bytes:
    """The payload legacy cosign signs (a ``.sig`` layer)."""
    return json.dumps({
        'critical': {
            'identity': {'docker-reference': reference},
            'image': {'docker-manifest-digest': digest},
            'type': 'cosign container image signature',
        },
        'optional': None,
    }).encode()


def _envelope(payload: bytes, signature: bytes) -> dict[str, Any]:
    return {'payload': b64(payload), 'payloadType': IN_TOTO, 'signatures': [{'sig': b64(signature), 'keyid': ''}]}


def keyed_bundle(key: KeyPair, payload: bytes) -> bytes:
    """A cosign v3 bundle signed with a key, without a transparency-log entry (``--tlog-upload=false``)."""
    return json.dumps({
        'mediaType': BUNDLE_TYPE,
        'verificationMaterial': {'publicKey': {'hint': b64(key_id(key.private.public_key()))}, 'tlogEntries': []},
        'dsseEnvelope': _envelope(payload, key.sign(pae(IN_TOTO, payload))),
    }).encode()


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'pin-from tests'),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _der_utf8(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 128
    return bytes((0x0C, len(raw))) + raw


def _der_octets(raw: bytes) -> bytes:
    if len(raw) < 128:
        return bytes((0x04, len(raw))) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, 'big')
    return bytes((0x04, 0x80 | len(size))) + size + raw


class TestSigstore:
    """A private Fulcio CA, CT log and Rekor log, and its ``trusted_root.json``."""

    __test__ = False  # not a pytest class

    def __init__(self, now: datetime.datetime | None = None) -> None:
        self.now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.rekor_key = ec.generate_private_key(ec.SECP256R1())
        ski = x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key())
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(_name('pin-from test fulcio')).issuer_name(_name('pin-from test fulcio'))
            .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(days=365))
            .not_valid_after(self.now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(self.ca_key, hashes.SHA384())
        )

    def _public_key(self, key: ec.EllipticCurvePrivateKey, start: datetime.datetime) -> dict[str, Any]:
        return {
            'rawBytes': b64(spki(key.public_key())), 'keyDetails': 'PKIX_ECDSA_P256_SHA_256',
            'validFor': {'start': (start - datetime.timedelta(days=365)).strftime('%Y-%m-%dT%H:%M:%SZ')},
        }

    def trusted_root(self) -> dict[str, Any]:
        start = (self.now - datetime.timedelta(days=365)).strftime('%Y-%m-%dT%H:%M:%SZ')
        return {
            'mediaType': 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
            'tlogs': [{
                'baseUrl': 'https://rekor.invalid', 'hashAlgorithm': 'SHA2_256',
                'publicKey': self._public_key(self.rekor_key, self.now),
                'logId': {'keyId': b64(key_id(self.rekor_key.public_key()))},
            }],
            'certificateAuthorities': [{
                'subject': {'organization': 'pin-from tests', 'commonName': 'pin-from test fulcio'},
                'uri': 'https://fulcio.invalid',
                'certChain': {'certificates': [{'rawBytes': b64(self.ca.public_bytes(serialization.Encoding.DER))}]},
                'validFor': {'start': start},
            }],
            'ctlogs': [{
                'baseUrl': 'https://ctfe.invalid', 'hashAlgorithm': 'SHA2_256',
                'publicKey': self._public_key(self.ct_key, self.now),
                'logId': {'keyId': b64(key_id(self.ct_key.public_key()))},
            }],
            'timestampAuthorities': [],
        }

    def write_trusted_root(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.trusted_root()))
        return path

    # Fulcio

    def _leaf(self, key: ec.EllipticCurvePrivateKey, identity: str, issuer: str, serial: int,
              sct: bytes) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([])).issuer_name(self.ca.subject)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(self.now - datetime.timedelta(minutes=1))
            .not_valid_after(self.now + datetime.timedelta(minutes=10))
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V1, issuer.encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V2, _der_utf8(issuer)), critical=False)
            .add_extension(x509.UnrecognizedExtension(SCT_LIST, _der_octets(sct)), critical=False)
            .sign(self.ca_key, hashes.SHA384())
        )

    def _sct(self, tbs: bytes) -> bytes:
        """One SCT (RFC 6962, precertificate entry) over ``tbs``, as a TLS-encoded SCT list."""
        millis = int(self.now.timestamp() * 1000)
        issuer = key_id(self.ca_key.public_key())
        entry = issuer + len(tbs).to_bytes(3, 'big') + tbs
        signed = struct.pack('!BBQH', 0, 0, millis, 1) + entry + struct.pack('!H', 0)
        signature = sign(self.ct_key, signed)
        sct = (bytes((0,)) + key_id(self.ct_key.public_key()) + struct.pack('!QH', millis, 0)
               + bytes((4, 3)) + struct.pack('!H', len(signature)) + signature)
        one = struct.pack('!H', len(sct)) + sct
        return struct.pack('!H', len(one)) + one

    def certificate(self, key: ec.EllipticCurvePrivateKey, identity: str, issuer: str = GITHUB) -> x509.Certificate:
        """A Fulcio-like leaf certificate for ``identity``, with an SCT from the test CT log."""
        serial = x509.random_serial_number()
        draft = self._leaf(key, identity, issuer, serial, self._sct(b'draft'))
        return self._leaf(key, identity, issuer, serial, self._sct(draft.tbs_precertificate_bytes))

    # Rekor

    def _checkpoint(self, root: bytes) -> str:
        origin = 'rekor.invalid - 1'
        note = f'{origin}\n1\n{b64(root)}\n'
        signature = sign(self.rekor_key, note.encode())
        return f'{note}\n\u2014 rekor.invalid {b64(key_id(self.rekor_key.public_key())[:4] + signature)}\n'

    def log_entry(self, body: bytes, kind: str) -> dict[str, Any]:
        """A Rekor v1 entry of a one-entry log: inclusion proof, checkpoint, inclusion promise."""
        import rfc8785
        log_id = key_id(self.rekor_key.public_key())
        integrated = int(self.now.timestamp())
        root = hashlib.sha256(b'\x00' + body).digest()
        promise = rfc8785.dumps({
            'body': b64(body), 'integratedTime': integrated, 'logID': log_id.hex(), 'logIndex': 0,
        })
        return {
            'logIndex': '0', 'logId': {'keyId': b64(log_id)},
            'kindVersion': {'kind': kind, 'version': '0.0.1'},
            'integratedTime': str(integrated),
            'inclusionPromise': {'signedEntryTimestamp': b64(sign(self.rekor_key, promise))},
            'inclusionProof': {
                'logIndex': '0', 'rootHash': b64(root), 'treeSize': '1', 'hashes': [],
                'checkpoint': {'envelope': self._checkpoint(root)},
            },
            'canonicalizedBody': b64(body),
        }

    def keyless_bundle(self, payload: bytes, identity: str, issuer: str = GITHUB) -> bytes:
        """A cosign v3 keyless bundle: a DSSE envelope signed by a fresh key certified for ``identity``."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(key, identity, issuer)
        signature = sign(key, pae(IN_TOTO, payload))
        envelope = _envelope(payload, signature)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = json.dumps({
            'apiVersion': '0.0.1', 'kind': 'dsse',
            'spec': {
                'envelopeHash': {'algorithm': 'sha256',
                                 'value': hashlib.sha256(json.dumps(envelope).encode()).hexdigest()},
                'payloadHash': {'algorithm': 'sha256', 'value': hashlib.sha256(payload).hexdigest()},
                'signatures': [{'signature': b64(signature), 'verifier': b64(pem)}],
            },
        }, separators=(',', ':'), sort_keys=True).encode()
        return json.dumps({
            'mediaType': BUNDLE_TYPE,
            'verificationMaterial': {
                'certificate': {'rawBytes': b64(cert.public_bytes(serialization.Encoding.DER))},
                'tlogEntries': [self.log_entry(body, 'dsse')],
            },
            'dsseEnvelope': envelope,
        }).encode()


    def legacy_keyless(self, payload: bytes, identity: str, issuer: str = GITHUB) -> tuple[bytes, dict[str, str]]:
        """A legacy keyless signature of a simple-signing ``payload``: the signature, and the layer
        annotations cosign v2 writes (certificate, chain, Rekor bundle with an inclusion promise)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(key, identity, issuer)
        signature = sign(key, payload)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = json.dumps({
            'apiVersion': '0.0.1', 'kind': 'hashedrekord',
            'spec': {'data': {'hash': {'algorithm': 'sha256', 'value': hashlib.sha256(payload).hexdigest()}},
                     'signature': {'content': b64(signature), 'publicKey': {'content': b64(pem)}}},
        }, separators=(',', ':'), sort_keys=True).encode()
        entry = self.log_entry(body, 'hashedrekord')
        rekor = {
            'SignedEntryTimestamp': entry['inclusionPromise']['signedEntryTimestamp'],
            'Payload': {'body': b64(body), 'integratedTime': int(entry['integratedTime']), 'logIndex': 0,
                        'logID': key_id(self.rekor_key.public_key()).hex()},
        }
        return signature, {
            'dev.sigstore.cosign/certificate': pem.decode(),
            'dev.sigstore.cosign/chain': self.ca.public_bytes(serialization.Encoding.PEM).decode(),
            'dev.sigstore.cosign/bundle': json.dumps(rekor),
        }


# Pushing to a registry


class Pushed(NamedTuple):
    manifest: str  # the referrer's (or .sig's) manifest digest
    blob: str  # the bundle's (or payload's) blob digest


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {'mediaType': media_type, 'digest': rs._sha256(data), 'size': len(data), **extra}


def referrers_index(entries: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps({'schemaVersion': 2, 'mediaType': rs.OCI_INDEX, 'manifests': list(entries)}).encode()


def bundle_manifest(bundle_digest: str, bundle_size: int, subject: str, subject_type: str = rs.OCI_INDEX,
                    predicate_type: str = COSIGN_SIGN) -> bytes:
    return json.dumps({
        'schemaVersion': 2, 'mediaType': rs.OCI_MANIFEST, 'artifactType': BUNDLE_TYPE,
        'config': _descriptor(EMPTY, b'{}'),
        'layers': [{'mediaType': BUNDLE_TYPE, 'digest': bundle_digest, 'size': bundle_size,
                    'annotations': {'org.opencontainers.image.title':
                                    f'{bundle_digest.replace(":", "-")}.sigstore.json'}}],
        'subject': {'mediaType': subject_type, 'digest': subject, 'size': 0},
        'annotations': {'dev.sigstore.bundle.content': 'dsse-envelope',
                        'dev.sigstore.bundle.predicateType': predicate_type},
    }).encode()


def push_bundle(registry_url: str, repository: str, subject: str, bundle: bytes,
                predicate_type: str = COSIGN_SIGN, tag_index: bool = True) -> Pushed:
    """Attach ``bundle`` to ``subject`` as cosign v3 does on a registry without the referrers API:
    the referrer manifest, and the ``sha256-<hex>`` tag listing it (added to what it lists)."""
    client = rs._Client(registry_url, repository, None, 'pull,push')
    client.upload_blob(b'{}')
    blob = client.upload_blob(bundle)
    manifest = bundle_manifest(blob, len(bundle), subject, predicate_type=predicate_type)
    digest = client.put_manifest(rs._sha256(manifest), manifest, rs.OCI_MANIFEST)
    if tag_index:
        tag = subject.replace(':', '-')
        entries = _listed(client, tag)
        entries.append(_descriptor(rs.OCI_MANIFEST, manifest, artifactType=BUNDLE_TYPE, annotations={
            'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': predicate_type,
        }))
        client.put_manifest(tag, referrers_index(entries), rs.OCI_INDEX)
    return Pushed(digest, blob)


def _listed(client: rs._Client, tag: str) -> list[dict[str, Any]]:
    resp = client.request('GET', client.url(f'manifests/{tag}'), headers={'Accept': rs.OCI_INDEX})
    if resp.status_code == 404:
        return []
    client.check(resp, 200)
    return list(resp.json()['manifests'])


def push_legacy_signature(registry_url: str, repository: str, subject: str, payload: bytes, signature: bytes,
                          annotations: dict[str, str] | None = None) -> Pushed:
    """The legacy ``sha256-<hex>.sig`` tag: one simple-signing layer, its signature in an annotation."""
    client = rs._Client(registry_url, repository, None, 'pull,push')
    config = json.dumps({'architecture': '', 'os': '', 'rootfs': {'type': 'layers', 'diff_ids': []}}).encode()
    config_digest = client.upload_blob(config)
    blob = client.upload_blob(payload)
    manifest = json.dumps({
        'schemaVersion': 2, 'mediaType': rs.OCI_MANIFEST,
        'config': {'mediaType': rs.OCI_CONFIG, 'digest': config_digest, 'size': len(config)},
        'layers': [{'mediaType': SIMPLE_SIGNING, 'digest': blob, 'size': len(payload),
                    'annotations': {SIGNATURE_ANNOTATION: b64(signature), **(annotations or {})}}],
    }).encode()
    digest = client.put_manifest(subject.replace(':', '-') + '.sig', manifest, rs.OCI_MANIFEST)
    return Pushed(digest, blob)
