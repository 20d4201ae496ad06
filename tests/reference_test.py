from __future__ import annotations

import pytest

from pin_from import reference
from pin_from.errors import InvalidReference

D = 'sha256:' + 'a' * 64


@pytest.mark.parametrize(
    ('text', 'registry', 'repository', 'tag', 'digest'),
    (
        ('python', 'docker.io', 'library/python', None, None),
        ('docker.io/python:3', 'docker.io', 'library/python', '3', None),
        ('index.docker.io/library/python', 'docker.io', 'library/python', None, None),
        ('registry-1.docker.io/library/node:20', 'docker.io', 'library/node', '20', None),
        ('library/python:3.12', 'docker.io', 'library/python', '3.12', None),
        ('bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', None),
        ('ghcr.io/org/app:v1', 'ghcr.io', 'org/app', 'v1', None),
        ('localhost:5000/app', 'localhost:5000', 'app', None, None),
        ('localhost/app:1', 'localhost', 'app', '1', None),
        ('registry:5000/team/app:1.2', 'registry:5000', 'team/app', '1.2', None),
        ('test.com:5000', 'docker.io', 'library/test.com', '5000', None),
        ('[::1]:5000/x:y', '[::1]:5000', 'x', 'y', None),
        (f'python:3.12@{D}', 'docker.io', 'library/python', '3.12', D),
        (f'python@{D}', 'docker.io', 'library/python', None, D),
        ('a__b/c-d.e:Tag_1.0-x', 'docker.io', 'a__b/c-d.e', 'Tag_1.0-x', None),
        ('Registry.Example.com/app', 'Registry.Example.com', 'app', None, None),
    ),
)
def test_parse(text, registry, repository, tag, digest):
    assert tuple(reference.parse(text)) == (registry, repository, tag, digest)


@pytest.mark.parametrize(
    ('text', 'message'),
    (
        ('Python:3', 'must be lowercase'),
        ('Foo/bar', 'must be lowercase'),
        ('ubuntu:', 'invalid tag'),
        ('a:b:c', 'invalid reference format'),
        ('', 'invalid reference format'),
        ('a b', 'invalid reference format'),
        ('python:3\r\nX-Evil: 1', 'invalid reference format'),
        ('python/../../etc', 'invalid reference format'),
        ('python?x=1', 'invalid reference format'),
        ('x@sha256:abc', 'invalid digest'),
        ('x@md5:' + 'a' * 32, 'unsupported digest'),
        ('x:' + 'a' * 129, 'invalid tag'),
        ('a/' + 'b' * 300, 'too long'),
        ('-bad.example/x', 'invalid'),
    ),
)
def test_parse_rejects(text, message):
    with pytest.raises(InvalidReference, match=message.replace('(', r'\(')):
        reference.parse(text)


@pytest.mark.parametrize(
    ('text', 'official', 'familiar', 'shown'),
    (
        ('python', True, 'python', 'python'),
        ('docker.io/library/python:3', True, 'python', 'python:3'),
        ('bitnami/redis', False, 'bitnami/redis', 'bitnami/redis'),
        ('ghcr.io/library/python:3', False, 'ghcr.io/library/python', 'ghcr.io/library/python:3'),
        ('library/a/b', False, 'library/a/b', 'library/a/b'),
    ),
)
def test_official_and_familiar(text, official, familiar, shown):
    ref = reference.parse(text)
    assert ref.is_official is official
    assert ref.familiar_name == familiar
    assert str(ref) == shown


def test_effective_tag_defaults_to_latest():
    assert reference.parse('python').effective_tag == 'latest'
    assert reference.parse('python:3').effective_tag == '3'
