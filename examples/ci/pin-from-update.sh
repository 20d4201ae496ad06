#!/usr/bin/env bash
# The same loop for any CI system: re-pin moved tags, then push a branch and
# open a merge request with the report as its description (here: GitLab's
# push options; replace the last command with your forge's API call).
set -euo pipefail
pre-commit run pin-from-update --all-files --hook-stage manual || true
if git diff --quiet; then
    echo 'No base image tag moved.'
    exit 0
fi
branch=pin-from/update-$(date +%Y%m%d)
git switch -c "$branch"
git commit -am 'Re-pin moved base images' -m "$(cat pin-from-report.md)"
git push -o merge_request.create -o merge_request.title='Re-pin moved base images' \
    -o merge_request.description="$(cat pin-from-report.md)" origin "$branch"
