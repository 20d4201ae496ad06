"""Markdown explaining one moved image: packages, source and vulnerabilities.

Every value taken from an image or an OSV record goes into a code span
(:func:`pin_from.escape.code_span`: escaped, length-capped). Vulnerabilities come first, then packages, then the
source; each list is capped and says what it left out. An image without attestations gets one line, not three
sections, and "OSV not configured" is the report's to say, once.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional, Sequence, Union

from pin_from.explain.attestations import Attestations, Provenance
from pin_from.escape import code_span
from pin_from.explain.osv import Finding, OsvError, OsvUnavailable, Source, VulnDiff, vulnerability_diff
from pin_from.explain import versions
from pin_from.explain.packages import Change, PackageDiff, diff_packages

BODY_UPGRADES = 20
MAX_PACKAGE_LINES = 200  # lines of "All package changes" per image; the rest counted
MAX_FINDINGS = 50  # fixed, and introduced, vulnerabilities listed per image; the rest counted
NO_ATTESTATIONS = 'no attestations: packages, source and vulnerabilities unknown'
FIELD = 120  # characters of one value in the report
# ASCII names only: \w is Unicode, and a homoglyph owner (ngіnxinc, a Cyrillic і) must get no link
_GITHUB = re.compile(
    r'^(?:https://|git@|git://|ssh://git@)github\.com[:/]([A-Za-z0-9-]{1,39})/([A-Za-z0-9_.-]{1,100}?)(?:\.git)?'
    r'(?:[#?].*)?/?$')
UNVERIFIED = ('- unverified provenance: what whoever pushed these images claims about their source '
              '(no signature verified it)')
_COMMIT = re.compile(r'^[0-9a-f]{7,64}$')



class VulnsUnknown(NamedTuple):
    """Why an image's vulnerabilities are unknown: one Markdown line (values in code spans)."""

    text: str


VulnOutcome = Union[VulnDiff, VulnsUnknown, None]  # None: OSV not configured
NOT_CONFIGURED = 'OSV not configured (`--osv`)'


class Sides(NamedTuple):
    old: Attestations
    new: Attestations


class Explanation(NamedTuple):
    """What one moved image's attestations and OSV tell (see :mod:`pin_from.explain.attested`)."""

    sides: Sides
    vulns: VulnOutcome


def _change_line(change: Change) -> str:
    old, new = code_span(change.old, FIELD), code_span(change.new, FIELD)
    return f'- {code_span(change.name, FIELD)} {old} → {new}'


def _counts(diff: PackageDiff) -> str:
    parts = [f'{len(diff.upgraded)} upgraded']
    if diff.downgraded:
        parts.append(f'{len(diff.downgraded)} downgraded')
    if diff.changed:
        parts.append(f'{len(diff.changed)} changed (versions not comparable)')
    parts += [f'{len(diff.added)} added', f'{len(diff.removed)} removed']
    return ', '.join(parts)


def _details(diff: PackageDiff) -> list[str]:
    lines = ['<details><summary>All package changes</summary>', '']
    every = [(c, 'upgraded') for c in diff.upgraded] + [(c, 'downgraded') for c in diff.downgraded] \
        + [(c, 'changed') for c in diff.changed]
    kept = every[:MAX_PACKAGE_LINES]
    lines += [f'{_change_line(c)} ({how})' for c, how in kept]
    room = MAX_PACKAGE_LINES - len(kept)
    one = [(p, 'added') for p in diff.added] + [(p, 'removed') for p in diff.removed]
    lines += [f'- {code_span(p.name, FIELD)} {code_span(p.version, FIELD)} ({how})' for p, how in one[:room]]
    left = len(every) + len(one) - MAX_PACKAGE_LINES
    if left > 0:
        lines.append(f'- … and {left:,} more package changes (left out: at most {MAX_PACKAGE_LINES} listed)')
    return lines + ['', '</details>']


def _missing(sides: Sides, what: str) -> Optional[str]:
    """The one line saying why ``what`` is unknown, or None if both sides have it."""
    for label, side in (('old', sides.old), ('new', sides.new)):
        has = side.packages is not None if what == 'packages' else side.provenance is not None
        if not has:
            relevant = [n for n in side.notes if 'SBOM' in n or 'attestations' in n] \
                if what == 'packages' else [n for n in side.notes if 'SBOM' not in n]
            return f'{label} image: {relevant[0] if relevant else "no data"}'
    return None


def packages_section(sides: Sides) -> list[str]:
    lines = ['**Packages**', '']
    missing = _missing(sides, 'packages')
    if missing is not None:
        return lines + [missing]
    diff = diff_packages(sides.old.packages or (), sides.new.packages or ())
    lines.append(_counts(diff))
    if versions.late():
        lines += ['', f"Explanation cut short: versions not ordered within the explain step's "
                      f'{versions.ORDER_SECONDS:g} s deadline are listed as changed']
    if diff.upgraded:
        lines.append('')
        lines += [_change_line(c) for c in diff.upgraded[:BODY_UPGRADES]]
        if len(diff.upgraded) > BODY_UPGRADES:
            lines.append(f'- … and {len(diff.upgraded) - BODY_UPGRADES} more')
    if diff.upgraded or diff.downgraded or diff.changed or diff.added or diff.removed:
        lines += [''] + _details(diff)
    return lines


def _github(repository: Optional[str]) -> Optional[tuple[str, str]]:
    match = _GITHUB.match(repository or '')
    if match is None or not match.group(2).strip('.'):
        return None  # not a GitHub repository, or '..'
    return match.group(1), match.group(2)


def compare_link(old: Provenance, new: Provenance) -> Optional[str]:
    """A GitHub compare URL when both sides name one GitHub repo and two commits."""
    repo = _github(old.repository)
    if repo is None or repo != _github(new.repository):
        return None
    if not (_COMMIT.match(old.commit or '') and _COMMIT.match(new.commit or '')):
        return None
    return f'https://github.com/{repo[0]}/{repo[1]}/compare/{old.commit}...{new.commit}'


def _source_line(label: str, side: Provenance) -> str:
    parts = [f'{label}:', code_span(side.repository or 'unknown repository', FIELD)]
    parts.append(f'at {code_span(side.commit, FIELD)}' if side.commit else '(no commit)')
    if side.build_time:
        parts.append(f'built {code_span(side.build_time, 40)}')
    return ' '.join(parts)


def source_section(sides: Sides, library: Sequence[str] = ()) -> list[str]:
    """Provenance of both sides, after ``library`` (the official-images entry's bullets): one Source heading."""
    lines = ['**Source**', ''] + [f'- {line}' for line in library]
    missing = _missing(sides, 'provenance')
    if missing is not None or sides.old.provenance is None or sides.new.provenance is None:
        return lines + [('- ' if library else '') + (missing or 'no provenance')]
    old, new = sides.old.provenance, sides.new.provenance
    lines += [UNVERIFIED, f'- {_source_line("old", old)}', f'- {_source_line("new", new)}']
    link = compare_link(old, new)
    if link is not None:
        lines.append(f'- compare: {link}')
    return lines


def _finding(finding: Finding) -> str:
    cves = [a for a in finding.aliases if a.startswith('CVE-')][:5]
    parts = [f'- {code_span(finding.id, 64)}']
    if cves:
        parts.append('(' + ', '.join(code_span(c, 64) for c in cves) + ')')
    if finding.severity:
        parts.append(f'severity {code_span(finding.severity, 100)}')
    parts.append(f'in {code_span(finding.package, FIELD)} {code_span(finding.version, FIELD)}')
    parts.append(f'fixed in {code_span(finding.fixed, FIELD)}' if finding.fixed else 'no fix named')
    return ' '.join(parts)


def vulnerabilities_section(sides: Sides, outcome: VulnOutcome) -> list[str]:
    lines = ['**Vulnerabilities**', '']
    if outcome is None:
        return lines + [NOT_CONFIGURED]
    if isinstance(outcome, VulnsUnknown):
        return lines + [outcome.text]
    missing = _missing(sides, 'packages')
    if missing is not None:
        return lines + [missing]
    lines.append(f'{outcome.before} known before, {outcome.after} after: '
                 f'{len(outcome.fixed)} fixed, {len(outcome.introduced)} introduced')
    for title, items in (('Introduced', outcome.introduced), ('Fixed by this update', outcome.fixed)):
        if items:
            lines += ['', f'{title}:', ''] + [_finding(f) for f in items[:MAX_FINDINGS]]
            if len(items) > MAX_FINDINGS:
                lines.append(f'- … and {len(items) - MAX_FINDINGS:,} more (left out: at most {MAX_FINDINGS} listed)')
    return lines


def unattested(sides: Sides) -> Optional[str]:
    """The one line for a move whose old or new image has no attestations at all (None: some are there)."""
    bare = [label for label, side in (('old', sides.old), ('new', sides.new))
            if side.packages is None and side.provenance is None]
    if not bare:
        return None
    which = 'either image' if len(bare) == 2 else f'the {bare[0]} image'
    return f'No attestations on {which}: packages, source and vulnerabilities unknown.'


def sections(sides: Sides, vulns: VulnOutcome, library: Sequence[str] = ()) -> list[tuple[str, list[str]]]:
    """The sections for one moved image, most important first: vulnerabilities (unless OSV is not
    configured: the report says so once), packages, source (with ``library``, the official-images
    entry). An image without attestations gets one line instead."""
    line = unattested(sides)
    if line is not None:
        return [('attestations', [line])]
    ret = [('vulnerabilities', vulnerabilities_section(sides, vulns))] if vulns is not None else []
    return ret + [('packages', packages_section(sides)), ('source', source_section(sides, library))]


def render(sides: Sides, vulns: VulnOutcome, library: Sequence[str] = ()) -> str:
    """The sections for one moved image, as Markdown lines joined."""
    return '\n\n'.join('\n'.join(b) for _, b in sections(sides, vulns, library)) + '\n'


def vulnerabilities(sides: Sides, source: Optional[Source]) -> VulnOutcome:
    """Compare the two SBOMs against ``source``; a failure is its one line."""
    if source is None:
        return None
    if sides.old.packages is None or sides.new.packages is None:
        return VulnsUnknown(_missing(sides, 'packages') or '')
    try:
        return vulnerability_diff(sides.old.packages, sides.new.packages, source)
    except OsvUnavailable as error:
        return VulnsUnknown(f'OSV unreachable: {code_span(str(error), 200)}')
    except OsvError as error:
        return VulnsUnknown(f'OSV unreadable: {code_span(str(error), 200)}')


def summary(explained: Explanation) -> str:
    """One line for the text summary: package and vulnerability counts, or why not (OSV not
    configured is said once by the caller)."""
    sides, vulns = explained
    line = unattested(sides)
    if line is not None:
        return line
    missing = _missing(sides, 'packages')
    if missing is not None and (vulns is None or vulns == VulnsUnknown(missing)):
        return f'packages: {missing}'
    packages = missing or _counts(diff_packages(sides.old.packages or (), sides.new.packages or ()))
    if vulns is None:
        return f'packages: {packages}'
    elif isinstance(vulns, VulnsUnknown):
        told = vulns.text
    else:
        told = (f'{len(vulns.fixed)} fixed, {len(vulns.introduced)} introduced '
                f'({vulns.before} known before, {vulns.after} after)')
    return f'packages: {packages}; vulnerabilities: {told}'
