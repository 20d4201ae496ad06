"""CircleCI configuration (``.circleci/*.yml``): ``docker:`` images of jobs and executors.

The first ``docker:`` entry is the job's primary container, the others its
service containers; each names its image under ``image``. Orbs are packages
of configuration, not images: they are left alone.
"""
from __future__ import annotations

from yaml.nodes import Node

from pin_from.kinds.yaml_kinds import _Walker


def walk(w: _Walker, docs: list[Node]) -> None:
    for doc in docs:
        for section in ('jobs', 'executors'):
            for owner in w.values(w.get(doc, section)):
                if w.first_visit(owner, 'circleci-owner'):
                    for container in w.seq(w.get(owner, 'docker')):
                        w.image_in(container, 'image', 'circleci-docker')
