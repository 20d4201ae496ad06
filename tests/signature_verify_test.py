"""The pieces of signature verification that need no registry: Merkle proofs, key types, statements."""
from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives import hashes

from pin_from.signatures.verify import check_signature
from pin_from.signatures.verify import check_simple_signing
from pin_from.signatures.verify import check_statement
from pin_from.signatures.verify import Invalid
from pin_from.signatures.verify import merkle_root
from tests import signing

DIGEST = 'sha256:' + 'ab' * 32


def _leaf(data):
    return hashlib.sha256(b'\x00' + data).digest()


def _mth(leaves):
    """RFC 6962 2.1: the Merkle tree hash of ``leaves`` (already leaf-hashed)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b'\x01' + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(m, leaves):
    """RFC 6962 2.1.1: the audit path of leaf ``m``."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


@pytest.mark.parametrize('size', (1, 2, 3, 5, 8, 13))
def test_inclusion_proofs_lead_to_the_tree_root(size):
    leaves = [_leaf(b'entry %d' % i) for i in range(size)]
    root = _mth(leaves)
    for index in range(size):
        assert merkle_root(leaves[index], index, size, _path(index, leaves)) == root
        if size > 1:
            assert merkle_root(_leaf(b'forged'), index, size, _path(index, leaves)) != root


def test_a_proof_of_the_wrong_length_or_index_is_refused():
    leaves = [_leaf(b'%d' % i) for i in range(5)]
    with pytest.raises(Invalid, match='too short'):
        merkle_root(leaves[0], 0, 5, _path(0, leaves)[:-1])
    with pytest.raises(Invalid, match='too long'):
        merkle_root(leaves[0], 0, 5, _path(0, leaves) + [b'x' * 32])
    with pytest.raises(Invalid, match='outside its tree'):
        merkle_root(leaves[0], 5, 5, [])


@pytest.mark.parametrize('make', (
    lambda: ec.generate_private_key(ec.SECP256R1()),
    lambda: ec.generate_private_key(ec.SECP384R1()),
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ed25519.Ed25519PrivateKey.generate,
), ids=('p256', 'p384', 'rsa', 'ed25519'))
def test_each_key_type_cosign_uses_verifies_and_rejects(make):
    key = make()
    data = b'payload'
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA256()
        signature = key.sign(data, ec.ECDSA(algorithm))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(data)
    assert check_signature(key.public_key(), signature, data)
    assert not check_signature(key.public_key(), signature, data + b'!')


def test_a_statement_must_be_a_cosign_signature_of_this_digest():
    check_statement(signing.statement(DIGEST), DIGEST)
    with pytest.raises(Invalid, match=r'a valid signature of another digest \(sha256:cdcd'):
        check_statement(signing.statement('sha256:' + 'cd' * 32), DIGEST)
    with pytest.raises(Invalid, match='an attestation .https://slsa.dev/provenance/v1., not a cosign signature'):
        check_statement(signing.statement(DIGEST, predicate_type='https://slsa.dev/provenance/v1'), DIGEST)
    with pytest.raises(Invalid, match='not an in-toto statement'):
        check_statement(json.dumps({'subject': []}).encode(), DIGEST)
    with pytest.raises(Invalid, match='not JSON'):
        check_statement(b'\xff', DIGEST)


def test_a_simple_signing_payload_must_name_this_digest():
    check_simple_signing(signing.simple_signing(DIGEST), DIGEST)
    with pytest.raises(Invalid, match='another digest'):
        check_simple_signing(signing.simple_signing('sha256:' + 'cd' * 32), DIGEST)
    with pytest.raises(Invalid, match='not a cosign simple-signing payload'):
        check_simple_signing(b'{"critical": {"type": "something else"}}', DIGEST)
