"""Signature rules against the real registry: real keys, a real (test) Sigstore root, hostile attachments.

The test registry (docker-registry 2.8) has no referrers API (it answers 404),
so cosign v3 bundles pushed to it are found through the ``sha256-<hex>``
referrers tag; a fault proxy in front of it serves a referrers API to test
that path and the hostile lists.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pin_from import pin
from tests import signing
from tests.faultproxy import FaultProxy
from tests.faultproxy import Status
from tests.hostile_servers import Endless
from tests.registry_server import OCI_INDEX
from tests.registry_server import push_image

IDENTITY = 'https://github.com/example/images/.github/workflows/release.yaml@refs/heads/main'
AMD64 = (('linux', 'amd64'),)


def toml(tables):
    """``[[tool.pin-from.signatures]]`` tables (strings and lists of strings) as pyproject.toml text."""
    out = ['[tool.pin-from]\n']
    for table in tables:
        out.append('[[tool.pin-from.signatures]]\n')
        out += [f'{k} = {json.dumps(v)}\n' for k, v in table.items()]
    return ''.join(out)


def run(argv, tables, directory):
    """pin-from with ``tables`` as the [[signatures]] rules of ``directory``/pyproject.toml."""
    config = directory / 'pyproject.toml'
    config.write_text(toml(tables))
    return pin.main(['--config', str(config), *map(str, argv)])


@pytest.fixture
def key(tmp_path):
    pair = signing.KeyPair()
    pair.write_public(tmp_path / 'keys' / 'publisher.pub')
    return pair


@pytest.fixture(scope='module')
def sigstore():
    return signing.TestSigstore()


@pytest.fixture
def root(sigstore, tmp_path):
    return sigstore.write_trusted_root(tmp_path / 'trusted_root.json')


def keyed_rule(image):
    return [{'images': [image], 'key': 'keys/publisher.pub'}]


def keyless_rule(image, identity=IDENTITY):
    return [{'images': [image], 'identity': identity, 'issuer': signing.GITHUB, 'trusted-root': 'trusted_root.json'}]


def dockerfile(tmp_path, text):
    path = tmp_path / 'Dockerfile'
    path.write_text(text)
    return path


# keyed


def test_a_rule_blocks_an_unsigned_digest_and_leaves_the_file_untouched(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyed_rule(f'{registry.host}/test/*'), tmp_path) == 3
    assert path.read_text() == f'FROM {name}:v1\n'
    err = capsys.readouterr().out
    assert f'{path}:1: {name}:v1: {digest} is not signed by the key {tmp_path}/keys/publisher.pub' in err
    assert f'as {tmp_path}/pyproject.toml: signatures rule 1 requires' in err
    assert 'found: no signature' in err


def test_a_keyed_bundle_found_by_the_referrers_tag_lets_the_pin_through(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    signing.push_bundle(registry.url, unique_repo, digest, signing.keyed_bundle(key, signing.statement(digest)))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyed_rule(name), tmp_path) == 1  # changed
    assert path.read_text() == f'FROM {name}:v1@{digest}\n'


def test_a_legacy_sig_tag_signed_with_the_key_counts(registry, unique_repo, key, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    payload = signing.simple_signing(digest)
    signing.push_legacy_signature(registry.url, unique_repo, digest, payload, key.sign(payload))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    run([path], keyed_rule(name), tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{digest}\n'


def test_a_legacy_signature_by_another_key_does_not(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    payload = signing.simple_signing(digest)
    signing.push_legacy_signature(registry.url, unique_repo, digest, payload, signing.KeyPair().sign(payload))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyed_rule(name), tmp_path) == 3
    assert path.read_text() == f'FROM {name}:v1\n'
    assert f'{digest.replace(":", "-")}.sig' in capsys.readouterr().out


def test_a_valid_signature_of_another_digest_is_refused(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    other = push_image(registry.url, unique_repo, 'v2', seed='other')
    # the publisher's real signature of v2, attached to v1: signature valid, subject wrong
    signing.push_bundle(registry.url, unique_repo, digest, signing.keyed_bundle(key, signing.statement(other)))
    payload = signing.simple_signing(other)
    signing.push_legacy_signature(registry.url, unique_repo, digest, payload, key.sign(payload))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyed_rule(name), tmp_path) == 3
    assert path.read_text() == f'FROM {name}:v1\n'
    out = capsys.readouterr().out
    assert f'a valid signature of another digest ({other})' in out  # legacy
    assert f'a valid signature of another digest (sha256:{other[7:]})' in out  # bundle


def test_a_referrer_whose_subject_is_another_digest_is_refused(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    other = push_image(registry.url, unique_repo, 'v2', seed='other')
    pushed = signing.push_bundle(registry.url, unique_repo, other, signing.keyed_bundle(key, signing.statement(digest)),
                                 tag_index=False)
    client = signing.rs._Client(registry.url, unique_repo, None, 'pull,push')
    manifest = client.request('GET', client.url(f'manifests/{pushed.manifest}'),
                              headers={'Accept': signing.rs.OCI_MANIFEST}).content
    index = signing.referrers_index([{'mediaType': signing.rs.OCI_MANIFEST, 'digest': pushed.manifest,
                                      'size': len(manifest), 'artifactType': signing.BUNDLE_TYPE}])
    client.put_manifest(digest.replace(':', '-'), index, OCI_INDEX)  # listed under v1, its subject is v2
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyed_rule(name), tmp_path) == 3
    assert f'is attached to another digest (its subject is not {digest})' in capsys.readouterr().out
    assert path.read_text() == f'FROM {name}:v1\n'


def test_an_oversized_bundle_is_not_downloaded(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    big = signing.keyed_bundle(key, signing.statement(digest))[:-1] + b', "padding": "' + b'x' * 300_000 + b'"}'
    pushed = signing.push_bundle(registry.url, unique_repo, digest, big)
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    mark = len(registry.requests_log())
    assert run([path], keyed_rule(name), tmp_path) == 3
    assert 'the bundle is over 256 kB; not read' in capsys.readouterr().out
    assert not [r for r in registry.requests_log(since=mark) if pushed.blob in r['uri']]
    assert path.read_text() == f'FROM {name}:v1\n'


def test_an_attestation_is_not_a_signature(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    provenance = signing.statement(digest, predicate_type='https://slsa.dev/provenance/v1')
    signing.push_bundle(registry.url, unique_repo, digest, signing.keyed_bundle(key, provenance),
                        predicate_type='https://slsa.dev/provenance/v1')
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyed_rule(name), tmp_path) == 3
    assert path.read_text() == f'FROM {name}:v1\n'


def test_a_keyed_bundle_with_a_log_entry_is_checked_against_the_log(
        registry, repo_factory, key, sigstore, root, tmp_path, capsys):
    def bundle_for(digest, body_payload):
        payload = signing.statement(digest)
        signature = key.sign(signing.pae(signing.IN_TOTO, payload))
        body = json.dumps({'apiVersion': '0.0.1', 'kind': 'dsse', 'spec': {
            'payloadHash': {'algorithm': 'sha256', 'value': signing.hashlib.sha256(body_payload(payload)).hexdigest()},
            'signatures': [{'signature': signing.b64(signature), 'verifier': signing.b64(key.public_pem)}],
        }}).encode()
        bundle = json.loads(signing.keyed_bundle(key, payload))
        bundle['dsseEnvelope']['signatures'][0]['sig'] = signing.b64(signature)
        bundle['verificationMaterial']['tlogEntries'] = [sigstore.log_entry(body, 'dsse')]
        return json.dumps(bundle).encode()

    rule = [{'images': [f'{registry.host}/test/*'], 'key': 'keys/publisher.pub', 'trusted-root': 'trusted_root.json'}]
    good, bad = repo_factory(), repo_factory()
    for repo, body_payload in ((good, lambda p: p), (bad, lambda p: p + b' ')):
        digest = push_image(registry.url, repo, 'v1')
        signing.push_bundle(registry.url, repo, digest, bundle_for(digest, body_payload))
    path = dockerfile(tmp_path, f'FROM {registry.host}/{good}:v1\nFROM {registry.host}/{bad}:v1\n')
    assert run([path], rule, tmp_path) == 3
    assert path.read_text() == f'FROM {registry.host}/{good}:v1\nFROM {registry.host}/{bad}:v1\n'
    out = capsys.readouterr().out
    assert f'{path}:2:' in out and 'the log entry is for another payload' in out
    assert f'{path}:1:' not in out
    path.write_text(f'FROM {registry.host}/{good}:v1\n')
    assert run([path], rule, tmp_path) == 1
    assert '@sha256:' in path.read_text()


# keyless


def test_a_keyless_bundle_verifies_against_the_trusted_root(registry, unique_repo, sigstore, root, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    signing.push_bundle(registry.url, unique_repo, digest,
                        sigstore.keyless_bundle(signing.statement(digest), IDENTITY))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    run([path], keyless_rule(name), tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{digest}\n'


def test_a_keyless_signature_by_another_identity_is_refused(registry, unique_repo, sigstore, root, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    signing.push_bundle(registry.url, unique_repo, digest,
                        sigstore.keyless_bundle(signing.statement(digest), 'https://github.com/mallory/fork/x.yml@main'))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyless_rule(name), tmp_path) == 3
    assert path.read_text() == f'FROM {name}:v1\n'
    out = capsys.readouterr().out
    assert f'is not signed by {IDENTITY} (issuer {signing.GITHUB})' in out
    assert 'signed by another identity: https://github.com/mallory/fork/x.yml@main' in out


def test_a_keyless_bundle_from_another_sigstore_is_refused(registry, unique_repo, root, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    stranger = signing.TestSigstore()  # same identity, a CA the trusted root does not hold
    signing.push_bundle(registry.url, unique_repo, digest, stranger.keyless_bundle(signing.statement(digest), IDENTITY))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyless_rule(name), tmp_path) == 3
    assert 'keyless verification failed' in capsys.readouterr().out
    assert path.read_text() == f'FROM {name}:v1\n'


def test_a_keyless_signature_of_another_digest_is_refused(registry, unique_repo, sigstore, root, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    other = push_image(registry.url, unique_repo, 'v2', seed='other')
    signing.push_bundle(registry.url, unique_repo, digest, sigstore.keyless_bundle(signing.statement(other), IDENTITY))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyless_rule(name), tmp_path) == 3
    assert f'a valid signature of another digest (sha256:{other[7:]})' in capsys.readouterr().out


def test_images_without_a_rule_are_pinned_as_before(registry, unique_repo, key, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    path = dockerfile(tmp_path, f'FROM {registry.host}/{unique_repo}:v1\n')
    run([path], keyed_rule('cgr.dev/chainguard/*'), tmp_path)
    assert path.read_text() == f'FROM {registry.host}/{unique_repo}:v1@{digest}\n'


def test_a_rule_on_the_normalised_name_applies_through_a_mirror(hub, key, tmp_path, capsys):
    digest = hub.push('alpine', '3.20')
    path = dockerfile(tmp_path, 'FROM alpine:3.20\n')
    assert run(['--registry-mirror', hub.mirror, path], keyed_rule('docker.io/library/*'), tmp_path) == 3
    assert path.read_text() == 'FROM alpine:3.20\n'
    assert 'is not signed by' in capsys.readouterr().out
    signing.push_bundle(hub.registry.url, hub.repository('alpine'), digest,
                        signing.keyed_bundle(key, signing.statement(digest)))
    run(['--registry-mirror', hub.mirror, path], keyed_rule('alpine'), tmp_path)  # as written
    assert path.read_text() == f'FROM alpine:3.20@{digest}\n'


# the referrers API (through a proxy that has one), and hostile lists


def _proxy_referrers(proxy, repo, digest, body, headers=None):
    proxy.add(Status(200, {'Content-Type': OCI_INDEX, **(headers or {})}, body), path=f'/v2/{repo}/referrers/{digest}')


def test_the_referrers_api_is_used_when_the_registry_has_it(registry, unique_repo, key, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    pushed = signing.push_bundle(registry.url, unique_repo, digest, signing.keyed_bundle(key, signing.statement(digest)),
                                 tag_index=False)
    with FaultProxy(registry.host) as proxy:
        _proxy_referrers(proxy, unique_repo, digest, signing.referrers_index([{
            'mediaType': signing.rs.OCI_MANIFEST, 'digest': pushed.manifest, 'size': 1000,
            'artifactType': signing.BUNDLE_TYPE}]))
        name = f'{proxy.host}/{unique_repo}'
        path = dockerfile(tmp_path, f'FROM {name}:v1\n')
        run([path], keyed_rule(name), tmp_path)
        assert path.read_text() == f'FROM {name}:v1@{digest}\n'
        assert proxy.seen('/referrers/') and not proxy.seen(f'/manifests/{digest.replace(":", "-")}$')


def test_an_endless_chain_of_referrer_pages_stops(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    with FaultProxy(registry.host) as proxy:
        page = f'/v2/{unique_repo}/referrers/{digest}'
        _proxy_referrers(proxy, unique_repo, digest, signing.referrers_index([]),
                         {'Link': f'<{page}?next=again>; rel="next"'})
        name = f'{proxy.host}/{unique_repo}'
        path = dockerfile(tmp_path, f'FROM {name}:v1\n')
        assert run([path], keyed_rule(name), tmp_path) == 3
        assert 'the referrers list goes on past 8 pages' in capsys.readouterr().out
        assert len(proxy.seen('/referrers/')) == 8
        assert path.read_text() == f'FROM {name}:v1\n'


def test_an_endless_referrers_body_is_cut(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    with FaultProxy(registry.host) as proxy:
        proxy.add(Endless(headers={'Content-Type': OCI_INDEX}, prefix=b'{"manifests": ['), path='/referrers/')
        name = f'{proxy.host}/{unique_repo}'
        path = dockerfile(tmp_path, f'FROM {name}:v1\n')
        assert run([path], keyed_rule(name), tmp_path) == 3
        out = capsys.readouterr().out
        assert 'referrers unreadable' in out and 'found:' in out
        assert path.read_text() == f'FROM {name}:v1\n'


def test_a_list_of_many_referrers_is_bounded(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    fake = [{'mediaType': signing.rs.OCI_MANIFEST, 'digest': f'sha256:{i:064x}', 'size': 500,
             'artifactType': signing.BUNDLE_TYPE} for i in range(2000)]
    with FaultProxy(registry.host) as proxy:
        _proxy_referrers(proxy, unique_repo, digest, signing.referrers_index(fake))
        name = f'{proxy.host}/{unique_repo}'
        path = dockerfile(tmp_path, f'FROM {name}:v1\n')
        assert run([path], keyed_rule(name), tmp_path) == 3
        out = capsys.readouterr().out
        assert 'the referrers list has over 1000 entries; read the first 1000' in out
        assert '984 more referrers not read (at most 16)' in out
        assert len(proxy.seen('/manifests/sha256:0000')) == 16


# --update and --verify


def test_update_refuses_an_unsigned_new_digest_and_reports_signers(registry, unique_repo, key, tmp_path, capsys):
    old = push_image(registry.url, unique_repo, 'v1', platforms=AMD64)
    signing.push_bundle(registry.url, unique_repo, old, signing.keyed_bundle(key, signing.statement(old)))
    new = push_image(registry.url, unique_repo, 'v1', platforms=AMD64, seed='2')
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1@{old}\n')
    assert run(['--update', path], keyed_rule(name), tmp_path) == 3
    assert path.read_text() == f'FROM {name}:v1@{old}\n'
    out = capsys.readouterr().out
    assert f'{new} is not signed by the key' in out
    assert 'the new digest lost cosign signature, which the old one had' in out  # the summary is plain text
    assert 'Signed: old by the key publisher.pub (verified); new unsigned' in out

    signing.push_bundle(registry.url, unique_repo, new, signing.keyed_bundle(key, signing.statement(new)))
    report = tmp_path / 'report.md'
    run(['--update', '--report', report, path], keyed_rule(name), tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{new}\n'
    text = report.read_text()
    assert 'Signed: old by `the key publisher.pub (verified)`; new by `the key publisher.pub (verified)`' in text
    assert 'lost' not in text


def test_update_flags_a_lost_signature_without_a_rule(registry, unique_repo, sigstore, tmp_path):
    old = push_image(registry.url, unique_repo, 'v1', platforms=AMD64)
    signing.push_bundle(registry.url, unique_repo, old, sigstore.keyless_bundle(signing.statement(old), IDENTITY))
    new = push_image(registry.url, unique_repo, 'v1', platforms=AMD64, seed='2')
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1@{old}\n')
    report = tmp_path / 'report.md'
    run(['--update', '--report', report, path], [], tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{new}\n'  # no rule: pinned as before
    text = report.read_text()
    assert '**Warning: the new digest lost `cosign signature`, which the old one had**' in text
    assert f'Signed: old by `keyless {IDENTITY} (not verified: no rule)`; new unsigned' in text


def test_verify_checks_the_signature_of_a_pinned_digest(registry, unique_repo, key, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1@{digest}\n')
    assert run(['--verify', path], keyed_rule(name), tmp_path) == 3
    assert f'{path}:1: {name}:v1@{digest}: {digest} is not signed by the key' in capsys.readouterr().out
    signing.push_bundle(registry.url, unique_repo, digest, signing.keyed_bundle(key, signing.statement(digest)))
    assert run(['--verify', '-v', path], keyed_rule(name), tmp_path) == 0
    assert 'signed by the key publisher.pub' in capsys.readouterr().out


def test_a_verified_signature_is_cached_by_digest(registry, unique_repo, key, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    signing.push_bundle(registry.url, unique_repo, digest, signing.keyed_bundle(key, signing.statement(digest)))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1@{digest}\n')
    assert run(['--verify', path], keyed_rule(name), tmp_path) == 0
    mark = len(registry.requests_log())
    assert run(['--verify', path], keyed_rule(name), tmp_path) == 0
    assert not [r for r in registry.requests_log(since=mark) if digest.replace(':', '-') in r['uri']]


def test_a_run_without_rules_imports_no_crypto(registry, unique_repo, tmp_path):
    push_image(registry.url, unique_repo, 'v1')
    path = dockerfile(tmp_path, f'FROM {registry.host}/{unique_repo}:v1\n')
    code = ('import sys; from pin_from import pin; pin.main(["--cache-dir", sys.argv[1], sys.argv[2]]);'
            'print(sorted(m for m in ("cryptography", "sigstore", "pin_from.signatures.gate") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'c'), str(path)], capture_output=True,
                         text=True, cwd=tmp_path, check=True).stdout
    assert out.strip().splitlines()[-1] == '[]'
    assert '@sha256:' in path.read_text()


def test_a_bad_rule_in_the_config_file_stops_the_run_before_any_file_is_read(tmp_path, capsys):
    path = dockerfile(tmp_path, 'FROM alpine:3.20\n')
    assert run([path], [{'images': ['dhi.io/*'], 'identity': 'x'}], tmp_path) == 2
    assert capsys.readouterr().err.strip().endswith(f'error: {tmp_path}/pyproject.toml: signatures rule 1: needs issuer')
    assert path.read_text() == 'FROM alpine:3.20\n'


def test_a_steady_run_with_rules_stays_light(key, tmp_path):
    """Rules that cover only pinned references cost a rules parse: no hashing, no HTTP, no crypto."""
    config = tmp_path / 'pyproject.toml'
    config.write_text(toml([{'images': ['docker.io/library/*'], 'key': 'keys/publisher.pub'},
                            {'images': ['cgr.dev/**'], 'identity': IDENTITY, 'issuer': signing.GITHUB}]))
    path = dockerfile(tmp_path, 'FROM python:3.12@sha256:' + 'b' * 64 + '\n')
    code = (
        'import sys\n'
        'from pin_from.pin import main\n'
        f'rc = main(["--config", {str(config)!r}, "--cache-dir", {str(tmp_path / "c")!r}, {str(path)!r}])\n'
        'heavy = ("hashlib", "_hashlib", "socket", "requests", "cryptography", "sigstore",\n'
        '         "pin_from.signatures.gate", "pin_from.signatures.verify")\n'
        'print(rc, sorted(m for m in heavy if m in sys.modules))\n'
    )
    subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True)  # first: scans
    proc = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True)
    assert proc.stdout.strip() == '0 []', proc.stdout + proc.stderr


def test_update_flags_a_lost_attestation(registry, unique_repo, key, tmp_path):
    old = push_image(registry.url, unique_repo, 'v1', platforms=AMD64)
    slsa = 'https://slsa.dev/provenance/v1'
    signing.push_bundle(registry.url, unique_repo, old, signing.keyed_bundle(key, signing.statement(old, predicate_type=slsa)),
                        predicate_type=slsa)
    signing.push_bundle(registry.url, unique_repo, old, signing.keyed_bundle(key, signing.statement(old)))
    new = push_image(registry.url, unique_repo, 'v1', platforms=AMD64, seed='2')
    signing.push_bundle(registry.url, unique_repo, new, signing.keyed_bundle(key, signing.statement(new)))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1@{old}\n')
    report = tmp_path / 'report.md'
    run(['--update', '--report', report, path], keyed_rule(name), tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{new}\n'  # signed: the rule is met
    text = report.read_text()
    assert f'**Warning: the new digest lost `cosign attestation {slsa}`, which the old one had**' in text
    assert 'lost `cosign signature`' not in text


def _legacy_keyless(registry, repo, sigstore, digest, identity=IDENTITY, tamper=None):
    payload = signing.simple_signing(digest)
    signature, annotations = sigstore.legacy_keyless(payload, identity)
    if tamper is not None:
        annotations = tamper(annotations)
    signing.push_legacy_signature(registry.url, repo, digest, payload, signature, annotations)


def test_a_legacy_keyless_signature_verifies_offline_by_its_inclusion_promise(
        registry, unique_repo, sigstore, root, tmp_path):
    digest = push_image(registry.url, unique_repo, 'v1')
    _legacy_keyless(registry, unique_repo, sigstore, digest)
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    run([path], keyless_rule(name), tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{digest}\n'


def _promise_signed_by_a_stranger(annotations):
    bundle = json.loads(annotations['dev.sigstore.cosign/bundle'])
    stranger = signing.TestSigstore()
    body = signing.base64.b64decode(bundle['Payload']['body'])
    forged = stranger.log_entry(body, 'hashedrekord')
    bundle['SignedEntryTimestamp'] = forged['inclusionPromise']['signedEntryTimestamp']
    return {**annotations, 'dev.sigstore.cosign/bundle': json.dumps(bundle)}


def _entry_of_another_payload(annotations):
    bundle = json.loads(annotations['dev.sigstore.cosign/bundle'])
    body = json.loads(signing.base64.b64decode(bundle['Payload']['body']))
    body['spec']['data']['hash']['value'] = '0' * 64
    bundle['Payload']['body'] = signing.b64(json.dumps(body).encode())
    return {**annotations, 'dev.sigstore.cosign/bundle': json.dumps(bundle)}


@pytest.mark.parametrize(('identity', 'tamper', 'message'), (
    ('https://github.com/mallory/fork/x.yml@main', None,
     'signed by another identity: https://github.com/mallory/fork/x.yml@main'),
    (IDENTITY, _promise_signed_by_a_stranger, 'the inclusion promise is not signed by the transparency log'),
    (IDENTITY, _entry_of_another_payload, 'the inclusion promise is not signed by the transparency log'),
    (IDENTITY, lambda a: {k: v for k, v in a.items() if k != 'dev.sigstore.cosign/bundle'},
     'without a Rekor bundle'),
), ids=('another-identity', 'stranger-log', 'edited-entry', 'no-rekor-bundle'))
def test_a_legacy_keyless_signature_that_does_not_hold_is_refused(
        registry, unique_repo, sigstore, root, tmp_path, capsys, identity, tamper, message):
    digest = push_image(registry.url, unique_repo, 'v1')
    _legacy_keyless(registry, unique_repo, sigstore, digest, identity, tamper)
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyless_rule(name), tmp_path) == 3
    assert message in capsys.readouterr().out
    assert path.read_text() == f'FROM {name}:v1\n'


def test_a_legacy_keyless_signature_from_another_fulcio_is_refused(registry, unique_repo, root, tmp_path, capsys):
    """Its own log and CT keys are in a trusted root; its CA is not (the CA alone is the stranger)."""
    digest = push_image(registry.url, unique_repo, 'v1')
    stranger = signing.TestSigstore()
    trusted = json.loads(root.read_text())
    theirs = stranger.trusted_root()
    theirs['certificateAuthorities'] = trusted['certificateAuthorities']
    root.write_text(json.dumps(theirs))
    _legacy_keyless(registry, unique_repo, stranger, digest)
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyless_rule(name), tmp_path) == 3
    assert 'the certificate does not chain to the trusted root' in capsys.readouterr().out


def test_a_legacy_keyless_certificate_whose_sct_does_not_verify_is_refused(
        registry, unique_repo, sigstore, root, tmp_path, capsys):
    digest = push_image(registry.url, unique_repo, 'v1')
    _legacy_keyless(registry, unique_repo, sigstore, digest)
    trusted = json.loads(root.read_text())
    other = signing.TestSigstore().trusted_root()['ctlogs'][0]['publicKey']
    trusted['ctlogs'][0]['publicKey'] = other  # the same log id, another key
    root.write_text(json.dumps(trusted))
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    assert run([path], keyless_rule(name), tmp_path) == 3
    assert "the certificate's SCT does not verify" in capsys.readouterr().out


def test_pin_platform_pins_a_platform_of_a_signed_index(registry, unique_repo, key, tmp_path, capsys):
    index = push_image(registry.url, unique_repo, 'v1')
    signing.push_bundle(registry.url, unique_repo, index, signing.keyed_bundle(key, signing.statement(index)))
    manifests = json.loads(signing.rs._Client(registry.url, unique_repo, None, 'pull').request(
        'GET', f'{registry.url}/v2/{unique_repo}/manifests/{index}', headers={'Accept': OCI_INDEX}).content)
    amd64 = next(m['digest'] for m in manifests['manifests'] if m['platform']['architecture'] == 'amd64')
    name = f'{registry.host}/{unique_repo}'
    path = dockerfile(tmp_path, f'FROM {name}:v1\n')
    run(['--pin-platform', 'linux/amd64', path], keyed_rule(name), tmp_path)
    assert path.read_text() == f'FROM {name}:v1@{amd64}\n'  # covered by the index's signature
    assert run(['--verify', '-v', path], keyed_rule(name), tmp_path) == 0
    assert 'signed by the key publisher.pub' in capsys.readouterr().out


def test_a_report_never_claims_a_loss_it_could_not_read(registry, unique_repo, key, tmp_path):
    old = push_image(registry.url, unique_repo, 'v1', platforms=AMD64)
    signing.push_bundle(registry.url, unique_repo, old, signing.keyed_bundle(key, signing.statement(old)))
    new = push_image(registry.url, unique_repo, 'v1', platforms=AMD64, seed='2')
    with FaultProxy(registry.host) as proxy:
        proxy.add(Status(500), path=f'/referrers/{new}')
        name = f'{proxy.host}/{unique_repo}'
        path = dockerfile(tmp_path, f'FROM {name}:v1@{old}\n')
        report = tmp_path / 'report.md'
        run(['--update', '--report', report, path], [], tmp_path)
        text = report.read_text()
    assert 'Signatures and attestations could not be read (new digest: ' in text
    assert 'lost' not in text


@pytest.mark.parametrize('legacy', (False, True), ids=('bundle', 'legacy'))
def test_identity_regexp_must_match_the_whole_identity(registry, repo_factory, sigstore, root, tmp_path, capsys, legacy):
    pattern = r'https://github\.com/example/images/\.github/workflows/release\.yaml@refs/tags/v.*'
    tagged = 'https://github.com/example/images/.github/workflows/release.yaml@refs/tags/v1.2.3'
    lookalike = 'https://github.com/mallory/x/?https://github.com/example/images/.github/workflows/release.yaml@refs/tags/v1'
    good, bad = repo_factory(), repo_factory()
    for repo, identity in ((good, tagged), (bad, lookalike)):
        digest = push_image(registry.url, repo, 'v1')
        if legacy:
            _legacy_keyless(registry, repo, sigstore, digest, identity)
        else:
            signing.push_bundle(registry.url, repo, digest, sigstore.keyless_bundle(signing.statement(digest), identity))
    rule = [{'images': [f'{registry.host}/test/*'], 'identity-regexp': pattern, 'issuer': signing.GITHUB,
             'trusted-root': 'trusted_root.json'}]
    path = dockerfile(tmp_path, f'FROM {registry.host}/{good}:v1\n')
    assert run(['-v', path], rule, tmp_path) == 1
    assert '@sha256:' in path.read_text()
    path = dockerfile(tmp_path, f'FROM {registry.host}/{bad}:v1\n')
    assert run([path], rule, tmp_path) == 3
    out = capsys.readouterr().out
    assert f'signed by another identity: {lookalike}' in out
    assert f"is not signed by an identity matching '{pattern}'" in out
