"""Property-based tests of the JSONC (dev containers) and INI (Quadlet units)
scanners: files are generated piece by piece, recording where every image
went; the scan must find exactly those, and splicing a pin at every site must
change those values and nothing else.

Examples per test: ``PIN_FROM_HYPOTHESIS_EXAMPLES`` (default 200).
"""
from __future__ import annotations

import json
from typing import Any
from typing import Callable

from hypothesis import given
from hypothesis import strategies as st

from pin_from.files import edit
from pin_from.kinds import devcontainer
from pin_from.kinds import jsonc
from pin_from.kinds import quadlet
from tests.yaml_kinds_property_test import FAKE
from tests.yaml_kinds_property_test import PROFILE
from tests.yaml_kinds_property_test import fake_pin

_NAME = st.from_regex(r'[a-z][a-z0-9]{0,6}(?:[._-][a-z0-9]{1,3})?', fullmatch=True)
_TAG = st.from_regex(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,9}', fullmatch=True)
_HEX = st.binary(min_size=32, max_size=32).map(bytes.hex)
_REGISTRIES = ('docker.io/library/', 'ghcr.io/org/', 'localhost:5000/', 'quay.io/a/', '[::1]:5000/')
_WS = st.sampled_from(('', ' ', '  ', '\t', '\n', '\r\n', '\n  ', '\n\t\t'))
_COMMENTS = ('// a comment\n', '/* c */', '/* multi\n line */', '// https://example.com/x\n', '//\n',
             '// caf\u00e9 \U0001f600\n', '/**/')
_STRINGS = st.text(st.characters(codec='utf-8', exclude_categories=['Cs']), max_size=8)


@st.composite
def references(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(_REGISTRIES)) + draw(_NAME)
    shape = draw(st.sampled_from(('tag', 'tag', 'pinned', 'digest')))
    text = name + (f':{draw(_TAG)}' if shape in ('tag', 'pinned') else '')
    return text + (f'@sha256:{draw(_HEX)}' if shape != 'tag' else '')


class _Json:
    """A JSONC document written piece by piece; ``image`` marks where the image went."""

    def __init__(self, draw: Callable[..., Any]) -> None:
        self.draw = draw
        self.parts: list[str] = []
        self.image: tuple[int, str] | None = None  # (offset, text) of the site

    def gap(self) -> None:
        for _ in range(self.draw(st.integers(0, 2))):
            self.parts.append(self.draw(_WS))
            if not self.draw(st.integers(0, 3)):
                self.parts.append(self.draw(st.sampled_from(_COMMENTS)))

    def value(self, depth: int) -> Any:
        """Write a random value (never a top-level image); return its data."""
        shape = self.draw(st.sampled_from(('str', 'num', 'lit', 'obj', 'arr') if depth < 3 else ('str', 'num')))
        if shape == 'str':
            text = self.draw(_STRINGS)
            self.parts.append(json.dumps(text, ensure_ascii=self.draw(st.booleans())))
            return text
        if shape == 'num':
            number = self.draw(st.integers(-10**6, 10**6))
            self.parts.append(str(number))
            return number
        if shape == 'lit':
            literal = self.draw(st.sampled_from((True, False, None)))
            self.parts.append(json.dumps(literal))
            return literal
        items = self.draw(st.integers(0, 3))
        obj = shape == 'obj'
        self.parts.append('{' if obj else '[')
        ret: Any = {} if obj else []
        for i in range(items):
            self.gap()
            if i:
                self.parts.append(',')
                self.gap()
            if obj:
                key = self.draw(st.sampled_from(('image', 'name', 'features', 'x'))) + str(i)
                self.parts.append(json.dumps(key) + ':')
                self.gap()
                ret[key] = self.value(depth + 1)
            else:
                ret.append(self.value(depth + 1))
        if items and self.draw(st.booleans()):
            self.parts.append(',')  # a trailing comma
        self.gap()
        self.parts.append('}' if obj else ']')
        return ret

    def document(self) -> tuple[str, Any, str | None]:
        """The text, its data, and the image value if it is a site."""
        if self.draw(st.booleans()):
            self.parts.append('\ufeff')
        self.gap()
        self.parts.append('{')
        data: dict[str, Any] = {}
        keys = self.draw(st.permutations(['image', 'name', 'features', 'runArgs']))
        site = None
        for i, key in enumerate(keys[:self.draw(st.integers(1, 4))]):
            self.gap()
            if i:
                self.parts.append(',')
            if key == 'image':
                mode = self.draw(st.sampled_from(('site', 'site', 'expression', 'ignore', 'escaped')))
                if mode == 'ignore':
                    self.parts.append('\n// pin-from: ignore\n')
                self.parts.append('"image":')
                self.gap()
                ref = self.draw(references())
                if mode == 'expression':
                    ref = '${localEnv:IMAGE}'
                if mode == 'escaped':
                    self.parts.append(json.dumps(ref).replace('/', '\\/') if '/' in ref else json.dumps(ref))
                    site = None if '/' in ref else ref
                else:
                    self.parts.append(f'"{ref}"')
                    site = ref if mode == 'site' else None
                if site is not None:
                    self.image = (sum(map(len, self.parts)) - len(ref) - 1, ref)
                data['image'] = ref
            else:
                self.parts.append(json.dumps(key) + ':')
                self.gap()
                data[key] = self.value(1)
        if self.draw(st.booleans()):
            self.parts.append(',')
        self.gap()
        self.parts.append('}')
        self.gap()
        return ''.join(self.parts), data, site


def jsonc_data(text: str) -> Any:
    """What a JSONC reader gets: plain data (comments and trailing commas dropped)."""

    def data(node: Any) -> Any:
        if isinstance(node, jsonc.Obj):
            return {k.value: data(v) for k, v in node.pairs}
        if isinstance(node, jsonc.Arr):
            return [data(v) for v in node.items]
        if isinstance(node, jsonc.Str):
            return node.value
        return json.loads(node.text)
    return data(jsonc.parse(text))


@PROFILE
@given(st.data())
def test_jsonc_sites_are_exactly_the_placed_image_and_pins_change_only_it(data: st.DataObject) -> None:
    w = _Json(data.draw)
    text, expected, site = w.document()
    assert jsonc_data(text) == expected  # the parser reads what was written
    scan = devcontainer.scan(text)
    assert not scan.problems
    found = [(s.start, s.text) for s in scan.sites]
    assert found == ([w.image] if w.image else [])
    pinned = edit.splice(text, ((s.start, s.end, fake_pin(s.text)) for s in scan.sites))
    after = jsonc_data(pinned)
    assert after == ({**expected, 'image': fake_pin(site)} if site else expected)
    assert [(s.start, s.text) for s in devcontainer.scan(pinned).sites] == (
        [(w.image[0], fake_pin(site))] if w.image and site else [])


# --- INI: Quadlet units -----------------------------------------------------

_KEYS = ('ContainerName', 'PublishPort', 'Label', 'Environment', 'Exec', 'Volume', 'ImageTag')
_SECTIONS = ('Unit', 'Container', 'Image', 'Volume', 'Service', 'Install', 'Build')


@PROFILE
@given(st.data())
def test_quadlet_sites_are_exactly_the_placed_images(data: st.DataObject) -> None:
    draw = data.draw
    eol = draw(st.sampled_from(('\n', '\r\n')))
    parts: list[str] = ['\ufeff'] if draw(st.booleans()) else []
    expected: list[tuple[int, str]] = []
    decoys: list[str] = []

    def line(*pieces: str) -> None:
        parts.extend((*pieces, eol))

    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(_SECTIONS))
        line(f'[{section}]')
        for _ in range(draw(st.integers(0, 5))):
            shape = draw(st.sampled_from(('image', 'image', 'key', 'comment', 'blank', 'continued')))
            ref = draw(references())
            if shape == 'image':
                mode = draw(st.sampled_from(('plain', 'quoted', 'spaced', 'ignored', 'short')))
                if mode == 'ignored':
                    line(draw(st.sampled_from(('# pin-from: ignore', ';pin-from: ignore'))))
                if mode == 'short':
                    ref = ref.rpartition('/')[2]
                quote = '"' if mode == 'quoted' else ''
                key = 'Image = ' if mode == 'spaced' else 'Image='
                parts.extend((key, quote))
                if section in ('Container', 'Image', 'Volume') and mode in ('plain', 'quoted', 'spaced'):
                    expected.append((sum(map(len, parts)), ref))
                else:
                    decoys.append(ref)
                line(ref, quote, ' ' if mode == 'spaced' else '')
            elif shape == 'key':
                decoys.append(ref)
                line(f'{draw(st.sampled_from(_KEYS))}=', ref)
            elif shape == 'comment':
                decoys.append(ref)
                line(draw(st.sampled_from(('#', ';', '  #'))), f' Image={ref}')
            elif shape == 'continued':
                decoys.append(ref)
                line('Exec=/bin/sh -c \\')
                line(f'  Image={ref}')
            else:
                line('')
    text = ''.join(parts)
    scan = quadlet.scan(text)
    assert not scan.problems
    assert [(s.start, s.text) for s in scan.sites] == expected
    pinned = edit.splice(text, ((s.start, s.end, fake_pin(s.text)) for s in scan.sites))
    assert [(s.text) for s in quadlet.scan(pinned).sites] == [fake_pin(t) for _, t in expected]
    assert pinned.count(FAKE) == len(expected) + sum(d.count(FAKE) for d in decoys)
    assert pinned.replace(FAKE, '') == edit.splice(text, ((s.start, s.end, s.text.partition('@')[0])
                                                          for s in scan.sites)).replace(FAKE, '')


# --- HCL: bake files and Terraform ---------------------------------------------

_HCL_NOISE = (
    '"plain"', '"with \\"escapes\\" and \\\\n"', '"${var.x}"', '"a-${join(",", [for s in var.l : "${s}}"])}-b"',
    '"%{ if var.on }on%{ else }off%{ endif }"', '"$${literal}"', '42', 'true', 'null', 'var.image',
    'docker_image.x.image_id', '["a", "b",]', '{ k = "v", "q" = 1 }', 'upper("x")', 'var.a == "x" ? "y" : "z"',
    '[for i in var.l : i if i != ""]',
)
_HCL_COMMENTS = ('# a comment', '// another', '/* a block */', '/* multi\n   line */', '# caf\u00e9 \U0001f600')


@PROFILE
@given(st.data())
def test_hcl_sites_are_exactly_the_placed_images(data: st.DataObject) -> None:
    """Bake targets and Terraform resources with image literals among comments,
    escapes, nested interpolations, heredocs and expressions this reader skips."""
    from pin_from.kinds import bake
    from pin_from.kinds import terraform
    draw = data.draw
    terraform_file = draw(st.booleans())
    eol = draw(st.sampled_from(('\n', '\r\n')))
    parts: list[str] = []
    expected: list[tuple[int, str]] = []

    def noise(indent: str) -> None:
        for i in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):
                parts.extend((indent, draw(st.sampled_from(_HCL_COMMENTS)), eol))
            else:
                parts.extend((indent, f'n{len(parts)} = ', draw(st.sampled_from(_HCL_NOISE)), eol))

    def image(prefix: str, key: str, indent: str) -> None:
        ref = draw(references())
        mode = draw(st.sampled_from(('site', 'site', 'site', 'interpolated', 'ignored', 'escaped')))
        if mode == 'ignored':
            parts.extend((indent, '# pin-from: ignore', eol))
        parts.extend((indent, key, ' = "', prefix))
        if mode == 'interpolated':
            ref = ref.partition(':')[0] + ':${var.tag}'
        elif mode == 'escaped':
            ref = ref.replace('/', '\\/', 1) if '/' in ref else ref + '\\t'
        elif mode == 'site':
            expected.append((sum(map(len, parts)), ref))
        parts.extend((ref, '"', draw(st.sampled_from(('', '  # a comment'))), eol))

    if draw(st.booleans()):
        parts.append('\ufeff')
    for b in range(draw(st.integers(1, 3))):
        noise('')
        if terraform_file:
            kind = draw(st.sampled_from(('docker_image', 'docker_container', 'kubernetes_pod', 'null_resource')))
            parts.extend((f'resource "{kind}" "r{b}" {{', eol))
            noise('  ')
            if kind == 'docker_image':
                image('', 'name', '  ')
            elif kind == 'docker_container':
                image('', 'image', '  ')
            elif kind == 'kubernetes_pod':
                parts.extend(('  spec {', eol, '    container {', eol))
                image('', 'image', '      ')
                parts.extend(('    }', eol, '  }', eol))
            else:
                parts.extend(('  triggers = { image = "', draw(references()), '" }', eol))  # not a container
        else:
            parts.extend((f'target "t{b}" {{', eol))
            noise('  ')
            parts.extend(('  contexts = {', eol))
            for c in range(draw(st.integers(0, 2))):
                image('docker-image://', f'c{c}', '    ')
                noise('    ')
            parts.extend(('    src = "target:base"', eol, '  }', eol))
            parts.extend(('  tags = ["', draw(references()), '"]', eol))
            if draw(st.booleans()):
                ref = draw(references())
                parts.extend(('  dockerfile-inline = <<', draw(st.sampled_from(('EOT', '-EOT'))), eol, '    FROM '))
                expected.append((sum(map(len, parts)), ref))
                parts.extend((ref, eol, '    RUN echo "${var.x}"', eol, '  EOT', eol))
        noise('  ')
        parts.extend(('}', eol))
    text = ''.join(parts)
    scanner = terraform if terraform_file else bake
    scan = scanner.scan(text)
    assert not scan.problems, (scan.problems, text)
    assert [(s.start, s.text) for s in scan.sites] == expected
    pinned = edit.splice(text, ((s.start, s.end, fake_pin(s.text)) for s in scan.sites))
    assert [s.text for s in scanner.scan(pinned).sites] == [fake_pin(t) for _, t in expected]
    assert edit.splice(pinned, ((s.start, s.end, s.text.partition('@')[0]) for s in scanner.scan(pinned).sites)) == \
        edit.splice(text, ((s.start, s.end, s.text.partition('@')[0]) for s in scan.sites))
