"""pin_from.explain.packages / versions / purl: SBOM diffs ordered by univers."""
from __future__ import annotations

import pytest

from pin_from.explain.attestations import Package
from pin_from.explain.packages import Change, PackageKey, diff_packages, package_key
from pin_from.explain.purl import Purl, parse_purl
from pin_from.explain.versions import BY_PURL_TYPE, compare


@pytest.mark.parametrize('text, expected', [
    ('pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12',
     Purl('deb', 'debian', 'libssl3', '3.0.11-1~deb12u2',
          {'arch': 'amd64', 'upstream': 'openssl', 'distro': 'debian-12'})),
    ('pkg:deb/debian/gcc-12@12.2.0-14?upstream=gcc-12%4012.2.0-14',
     Purl('deb', 'debian', 'gcc-12', '12.2.0-14', {'upstream': 'gcc-12@12.2.0-14'})),
    ('pkg:npm/%40babel/core@7.0.0', Purl('npm', '@babel', 'core', '7.0.0', {})),
    ('pkg:golang/github.com/a/b@v1.2.3#sub', Purl('golang', 'github.com/a', 'b', 'v1.2.3', {})),
    ('pkg:pypi/requests', Purl('pypi', '', 'requests', '', {})),
    ('http://x', None), ('pkg:', None), ('pkg:deb', None), ('pkg:deb/', None),
    ('pkg:deb/debian/x?novalue', None), ('pkg:DEB$/x', None), (None, None), (3, None),
    ('pkg:deb/' + 'x' * 3000, None),
])
def test_parse_purl(text, expected):
    assert parse_purl(text) == expected


@pytest.mark.parametrize('kind, old, new, expected', [
    ('deb', '1.2.1-2.2+wheezy2', '1.2.1-2.2+wheezy3', -1),
    ('deb', '3.0.11-1~deb12u2', '3.0.11-1', -1),  # tilde sorts before anything
    ('deb', '1:1.0', '2.0', 1),  # epoch wins
    ('apk', '3.3.2-r0', '3.3.10-r0', -1),
    ('apk', '9.7_p1-r4', '9.7-r0', 1),
    ('pypi', '2.0rc1', '2.0', -1),
    ('npm', '1.0.0-beta', '1.0.0', -1),
    ('deb', '1.0', '1.0', 0),
    ('deb', '', '1.0', None),  # the library refuses it: unordered
    ('apk', '1.2.3_git20200101-r1', '1.2.3-r0', None),  # univers does not parse _git
])
def test_compare_uses_the_scheme_of_the_purl_type(kind, old, new, expected):
    assert compare(BY_PURL_TYPE[kind], old, new) == expected


def test_compare_without_a_scheme_is_unordered():
    assert compare(None, '1', '2') is None


def _deb(name: str, version: str, arch: str = 'amd64') -> Package:
    return Package(name, version, f'pkg:deb/debian/{name}@{version}?arch={arch}&distro=debian-12')


def test_package_key_is_arch_aware_and_falls_back_to_the_name():
    assert package_key(_deb('libc6', '1', 'i386')) == PackageKey('deb', 'debian', 'libc6', 'i386')
    assert package_key(Package('busybox', '1', None)) == PackageKey('', '', 'busybox', '')


def test_diff_packages():
    old = [_deb('libc6', '2.36-9+deb12u3'), _deb('libc6', '2.36-9+deb12u3', 'i386'),
           _deb('gone', '1.0'), _deb('same', '1.0'), _deb('tzdata', '2024a-0+deb12u1'),
           Package('odd', '1', 'pkg:unknowntype/odd@1')]
    new = [_deb('libc6', '2.36-9+deb12u4'), _deb('libc6', '2.36-9+deb12u3', 'i386'),
           _deb('fresh', '2.0'), _deb('same', '1.0'), _deb('tzdata', '2023c-5'),
           Package('odd', '2', 'pkg:unknowntype/odd@2')]
    diff = diff_packages(old, new)
    assert diff.upgraded == (Change('libc6', '2.36-9+deb12u3', '2.36-9+deb12u4', 'deb'),)
    assert diff.downgraded == (Change('tzdata', '2024a-0+deb12u1', '2023c-5', 'deb'),)
    assert diff.changed == (Change('odd', '1', '2', 'unknowntype'),)
    assert [p.name for p in diff.added] == ['fresh']
    assert [p.name for p in diff.removed] == ['gone']


def test_several_versions_of_one_package_are_added_and_removed_per_version():
    old = [Package('six', '1.15', 'pkg:pypi/six@1.15'), Package('six', '1.16', 'pkg:pypi/six@1.16')]
    new = [Package('six', '1.16', 'pkg:pypi/six@1.16'), Package('six', '1.17', 'pkg:pypi/six@1.17')]
    diff = diff_packages(old, new)
    assert diff.upgraded == ()
    assert [p.version for p in diff.added] == ['1.17']
    assert [p.version for p in diff.removed] == ['1.15']


def test_identical_lists_have_no_changes():
    same = [_deb('a', '1'), _deb('b', '2')]
    assert diff_packages(same, list(reversed(same))) == ((), (), (), (), ())
