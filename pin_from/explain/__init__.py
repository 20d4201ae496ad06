"""What an ``--update`` changed, explained: attestations, package diffs, OSV advisories, the Markdown report."""
