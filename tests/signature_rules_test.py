"""Signature rules: parsing, validation messages that name the file and the rule, image patterns."""
from __future__ import annotations

import pytest

from pin_from.reference import parse
from pin_from.signatures.rules import load_rules
from pin_from.signatures.rules import PolicyError
from pin_from.signatures.rules import rule_for
from pin_from.signatures.rules import written_name
from tests import signing

GITHUB = 'https://token.actions.githubusercontent.com'


@pytest.fixture
def keydir(tmp_path):
    signing.KeyPair().write_public(tmp_path / 'keys' / 'dhi.pub')
    return tmp_path


def test_keyed_and_keyless_rules_load_with_paths_relative_to_the_config(keydir):
    rules = load_rules([
        {'images': ['cgr.dev/chainguard/*'], 'identity': 'https://github.com/x/y/.github/workflows/r.yaml@refs/heads/main',
         'issuer': GITHUB},
        {'images': ['dhi.io/*'], 'key': 'keys/dhi.pub'},
    ], str(keydir), 'pyproject.toml')
    assert [r.where for r in rules] == ['pyproject.toml: signatures rule 1', 'pyproject.toml: signatures rule 2']
    assert rules[0].key is None and rules[0].issuer == GITHUB
    assert rules[1].key == str(keydir / 'keys' / 'dhi.pub')
    assert rules[1].signer == f'the key {keydir}/keys/dhi.pub'


@pytest.mark.parametrize(('table', 'message'), (
    ({'images': ['a/*'], 'identity': 'x'}, 'signatures rule 1: needs issuer'),
    ({'images': ['a/*'], 'issuer': GITHUB}, 'signatures rule 1: needs identity'),
    ({'images': ['a/*']}, 'signatures rule 1: needs key, or identity and issuer'),
    ({'images': ['a/*'], 'key': 'keys/dhi.pub', 'identity': 'x', 'issuer': GITHUB}, 'exclude each other'),
    ({'images': ['a/*'], 'key': 'keys/none.pub'}, "key 'keys/none.pub': no such file"),
    ({'images': ['a/*'], 'key': 'keys/plain.txt'}, 'not a PEM public key'),
    ({'images': [], 'key': 'keys/dhi.pub'}, 'images must be a non-empty list'),
    ({'images': ['a b'], 'key': 'keys/dhi.pub'}, "images: 'a b' is not an image pattern"),
    ({'images': ['a/*'], 'key': 'keys/dhi.pub', 'identities': ['x']}, "unknown key 'identities'"),
    ({'images': ['a/*'], 'identity': '', 'issuer': GITHUB}, 'identity must be a non-empty string'),
    ('dhi.io/*', 'expected a table'),
))
def test_a_bad_rule_is_an_error_naming_the_file_and_the_rule(keydir, table, message):
    (keydir / 'keys' / 'plain.txt').write_text('not a key\n')
    good = {'images': ['b/*'], 'key': 'keys/dhi.pub'}
    with pytest.raises(PolicyError) as e:
        load_rules([good, table], str(keydir), '.pin-from.toml')
    assert str(e.value).startswith('.pin-from.toml: signatures rule 2: ')
    assert message.replace('rule 1', 'rule 2') in str(e.value)


def test_signatures_must_be_a_list_of_tables(keydir):
    with pytest.raises(PolicyError, match=r'^pyproject.toml: signatures must be a list of tables'):
        load_rules({'images': ['x']}, str(keydir), 'pyproject.toml')
    assert load_rules(None, str(keydir), 'pyproject.toml') == ()


@pytest.mark.parametrize(('pattern', 'written', 'matches'), (
    ('cgr.dev/chainguard/*', 'cgr.dev/chainguard/python:latest', True),
    ('cgr.dev/chainguard/*', 'cgr.dev/chainguard/sub/python', False),
    ('cgr.dev/chainguard/**', 'cgr.dev/chainguard/sub/python', True),
    ('cgr.dev/chainguard/*', 'cgr.dev/chainguardx/python', False),
    ('alpine', 'alpine:3.20', True),  # as written
    ('alpine', 'docker.io/library/alpine:3.20', True),  # familiar name
    ('docker.io/library/*', 'alpine:3.20@sha256:' + 'a' * 64, True),  # normalised
    ('docker.io/library/*', 'index.docker.io/library/alpine', True),
    ('dhi.io/*', 'dhi.io/python:3.13', True),
    ('dhi.io/*', 'evil.io/dhi.io/python', False),
    ('gcr.io/distroless/?tatic*', 'gcr.io/distroless/static-debian12:nonroot', True),
    ('127.0.0.1:5000/test/*', '127.0.0.1:5000/test/app:v1', True),
))
def test_patterns_match_the_name_as_written_and_as_normalised(keydir, pattern, written, matches):
    rules = load_rules([{'images': [pattern], 'key': 'keys/dhi.pub'}], str(keydir), 'pyproject.toml')
    assert (rule_for(rules, parse(written), written) is not None) is matches


def test_the_first_matching_rule_applies(keydir):
    rules = load_rules([
        {'images': ['reg.example/team/*'], 'key': 'keys/dhi.pub'},
        {'images': ['reg.example/**'], 'identity': 'a@example.com', 'issuer': 'https://accounts.google.com'},
    ], str(keydir), 'pyproject.toml')
    assert rule_for(rules, parse('reg.example/team/app:1')).where.endswith('rule 1')
    assert rule_for(rules, parse('reg.example/other/app:1')).where.endswith('rule 2')


def test_written_name_drops_tag_and_digest_but_not_a_port():
    assert written_name('localhost:5000/app:1@sha256:' + 'a' * 64) == 'localhost:5000/app'
    assert written_name('localhost:5000/app') == 'localhost:5000/app'
    assert written_name('python:3.12') == 'python'


def test_identity_regexp_is_a_keyless_identity_checked_when_loaded(keydir):
    rule, = load_rules([{'images': ['a/*'], 'identity-regexp': r'https://github\.com/org/.*@refs/tags/v.*',
                         'issuer': GITHUB}], str(keydir), 'pyproject.toml')
    assert rule.identity is None and rule.keyless
    assert rule.signer == r"an identity matching 'https://github\.com/org/.*@refs/tags/v.*' (issuer " + GITHUB + ')'
    with pytest.raises(PolicyError, match="rule 1: identity-regexp '\\(unclosed': missing \\)"):
        load_rules([{'images': ['a/*'], 'identity-regexp': '(unclosed', 'issuer': GITHUB}], str(keydir), 'p')
    with pytest.raises(PolicyError, match='identity and identity-regexp exclude each other'):
        load_rules([{'images': ['a/*'], 'identity-regexp': 'x', 'identity': 'x', 'issuer': GITHUB}], str(keydir), 'p')
    with pytest.raises(PolicyError, match='needs issuer'):
        load_rules([{'images': ['a/*'], 'identity-regexp': 'x'}], str(keydir), 'p')
