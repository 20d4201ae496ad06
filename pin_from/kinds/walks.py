"""YAML kinds whose walk lives in a module of its own: shared by the kind table and the YAML scanner
(a light module: the kind table is read on every run, the scanner only to scan)."""
from __future__ import annotations

WALKS = {  # kind: the module (in pin_from.kinds) of its walk over the YAML node graph
    'helm': 'helm', 'kustomize': 'kustomize', 'circleci': 'circleci', 'bitbucket': 'bitbucket',
    'azure-pipelines': 'azure_pipelines', 'drone': 'drone', 'woodpecker': 'drone', 'cloudbuild': 'cloudbuild',
}
