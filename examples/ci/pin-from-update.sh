#!/usr/bin/env bash
# Scheduled re-pinning for any CI system: re-pin the base images whose tags
# moved, commit the Dockerfiles with pin-from's report as the commit message
# body, and push a branch (optionally opening a GitLab merge request).
#
#   bash pin-from-update.sh [EXTRA PIN-FROM ARGS...]
#
# Run it from a clean checkout. The extra arguments go to pin-from as they are
# (e.g. --platform linux/amd64, --registry-mirror docker.io=https://mirror.example).
#
# Exit status: 0 when no tag moved, or when the re-pinned files were committed
# and pushed; non-zero when anything failed (a lookup, the commit, the push), so
# a registry outage turns the job red. pin-from's own code is passed through
# (2 usage error, 3 a lookup failed); nothing is committed or pushed then.
# pin-from is run directly, not through pre-commit: pre-commit reports every
# hook failure as 1, which cannot tell "re-pinned" from "a lookup failed".
#
# Environment (all optional):
#   PIN_FROM         the pin-from command, split on spaces (default: pin-from;
#                    e.g. "uvx pin-from", "/opt/venv/bin/pin-from")
#   PIN_FROM_REPORT  where the Markdown report goes (default: a temporary file,
#                    removed on exit); keep it outside the work tree, or it may
#                    end up in the pull request
#   PIN_FROM_TITLE   commit subject and merge request title, one line
#                    (default: Re-pin moved base images)
#   PIN_FROM_BRANCH  the branch to push (default: pin-from/update); it belongs to
#                    this job: every run rebuilds it from HEAD and force-pushes,
#                    so one open merge request is refreshed instead of piling up
#   PIN_FROM_REMOTE  the remote (name or URL) to push to (default: origin);
#                    GitLab's CI job token cannot push: use a project access token
#   PIN_FROM_COMMIT  "false": stop after re-pinning and leave the changed files
#                    in the work tree (for a forge action that commits, such as
#                    peter-evans/create-pull-request); default "true"
#   PIN_FROM_FORGE   "gitlab": open or refresh a merge request with GitLab push
#                    options (title only: push options cannot carry a multi-line
#                    description, see the API call at the end); default "none"
# On GitHub Actions ($GITHUB_OUTPUT set) the step output moved=true|false says
# whether anything was re-pinned.
# Needs bash >= 4.4, and a git identity for the commit (git config user.name and
# user.email, or the GIT_AUTHOR_*/GIT_COMMITTER_* variables).
set -euo pipefail

read -ra pin_from <<< "${PIN_FROM:-pin-from}"
title=${PIN_FROM_TITLE:-Re-pin moved base images}
branch=${PIN_FROM_BRANCH:-pin-from/update}
remote=${PIN_FROM_REMOTE:-origin}
commit=${PIN_FROM_COMMIT:-true}
forge=${PIN_FROM_FORGE:-none}

fail() {  # fail STATUS MESSAGE
    echo "pin-from-update: $2" >&2
    exit "$1"
}

output() {
    if [[ -n ${GITHUB_OUTPUT:-} ]]; then
        echo "moved=$1" >> "$GITHUB_OUTPUT"
    fi
}

case $title in *$'\n'* | '') fail 2 'PIN_FROM_TITLE must be one non-empty line' ;; esac
case $commit in true | false) ;; *) fail 2 "PIN_FROM_COMMIT must be true or false, not '$commit'" ;; esac
case $forge in none | gitlab) ;; *) fail 2 "PIN_FROM_FORGE must be none or gitlab, not '$forge'" ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
report=${PIN_FROM_REPORT:-$tmp/report.md}
[[ $report == /* ]] || report=$PWD/$report
cd "$(git rev-parse --show-toplevel)"

# Every tracked Dockerfile, at any depth (BuildKit's per-Dockerfile
# Dockerfile.dockerignore files are not Dockerfiles).
mapfile -d '' files < <(git ls-files -z -- \
    ':(glob)**/Dockerfile' ':(glob)**/*.Dockerfile' ':(glob)**/Dockerfile.*' \
    ':(glob)**/Containerfile' ':(glob)**/*.Containerfile' \
    ':(glob,exclude)**/*.dockerignore')
if (( ${#files[@]} == 0 )); then
    echo 'pin-from-update: no Dockerfile tracked; nothing to do.'
    output false
    exit 0
fi
if ! git diff --quiet HEAD -- "${files[@]}"; then
    fail 2 'Dockerfiles have uncommitted changes; run this from a clean checkout'
fi

# Run once with every file: one report, each tag resolved once.
rc=0
"${pin_from[@]}" --update --report "$report" "$@" -- "${files[@]}" || rc=$?
case $rc in
    0)
        echo 'pin-from-update: no base image tag moved.'
        output false
        exit 0 ;;
    1) ;;
    *) fail "$rc" "pin-from failed (exit $rc); nothing committed or pushed" ;;
esac
if git diff --quiet -- "${files[@]}"; then  # e.g. --check among the extra args
    fail 1 'pin-from exited 1 but changed no file; nothing committed or pushed'
fi
output true
if [[ $commit == false ]]; then
    echo 'pin-from-update: re-pinned; the changes are left in the work tree.'
    exit 0
fi

# The report is the commit message body, from a file: it is long Markdown.
{ printf '%s\n\n' "$title"; cat "$report"; } > "$tmp/message"
git switch --quiet -C "$branch"
# --cleanup=whitespace keeps the report's "## ..." headings, whatever commit.cleanup says.
git commit --quiet --cleanup=whitespace -F "$tmp/message" -- "${files[@]}"

push_options=()
if [[ $forge == gitlab ]]; then
    push_options=(-o merge_request.create -o "merge_request.title=$title" -o merge_request.remove_source_branch)
fi
git push --quiet --force "${push_options[@]}" "$remote" "HEAD:refs/heads/$branch"
echo "pin-from-update: pushed $branch to $remote."

# A merge request description is too long and multi-line for push options;
# set it through the forge's API, e.g. GitLab (token with api scope):
#   curl --fail --request PUT --header "PRIVATE-TOKEN: $TOKEN" \
#       --data-urlencode "description@$report" \
#       "$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$MR_IID"
# (find MR_IID with GET .../merge_requests?source_branch=$branch&state=opened),
# or on GitHub: gh pr create --head "$branch" --title "$title" --body-file "$report".
