#!/usr/bin/env bash
# Scheduled re-pinning for any CI system: re-pin the images whose tags moved,
# in every tracked file of a kind pin-from knows (Dockerfiles, Compose,
# Kubernetes, workflows, ...), commit exactly the files pin-from changed with
# its report as the commit message body, and push a branch (optionally opening
# a GitLab merge request).
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
# The exit code alone is not trusted: a commit is made only when pin-from said
# "changed" (1) and the work tree did change. The commit skips the repository's
# own hooks (--no-verify): they are the developers' checks, not this job's.
# Any failure after the switch to the update branch switches back to the
# starting branch and says what happened.
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
# whether anything was re-pinned, and files the changed files (one literal
# pathspec a line, for create-pull-request's add-paths).
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

# The work tree must be clean: every file pin-from changes is committed, and
# nothing else may be.
if ! git diff --quiet HEAD --; then
    fail 2 'tracked files have uncommitted changes; run this from a clean checkout'
fi

# One run over the repository (its tracked files of known kinds, git ls-files):
# one report, each tag resolved once.
rc=0
"${pin_from[@]}" --update --report "$report" "$@" -- . || rc=$?
mapfile -d '' changed < <(git diff -z --name-only)
case $rc in
    0)
        if (( ${#changed[@]} )); then
            fail 3 "pin-from exited 0 but changed ${#changed[@]} file(s); nothing committed or pushed"
        fi
        echo 'pin-from-update: no base image tag moved.'
        output false
        exit 0 ;;
    1) ;;
    *) fail "$rc" "pin-from failed (exit $rc); nothing committed or pushed" ;;
esac
if (( ${#changed[@]} == 0 )); then  # e.g. --check among the extra args
    fail 1 'pin-from exited 1 but changed no file; nothing committed or pushed'
fi
output true
if [[ -n ${GITHUB_OUTPUT:-} ]]; then  # the changed files, as literal pathspecs (add-paths)
    delimiter="EOF_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    { echo "files<<$delimiter"; printf ':(literal)%s\n' "${changed[@]}"; echo "$delimiter"; } >> "$GITHUB_OUTPUT"
fi
if [[ $commit == false ]]; then
    echo "pin-from-update: re-pinned ${#changed[@]} file(s); the changes are left in the work tree."
    exit 0
fi

# The report is the commit message body, from a file: it is long Markdown.
{ printf '%s\n\n' "$title"; cat "$report"; } > "$tmp/message"

if start=$(git symbolic-ref --quiet --short HEAD); then
    back=(git switch --quiet "$start")
else  # a detached checkout (GitLab CI, actions/checkout of a commit)
    start=$(git rev-parse HEAD)
    back=(git switch --quiet --detach "$start")
fi
after_switch() {  # after_switch WHAT LEFT COMMAND...: on failure, back to the start and say so
    local what=$1 left=$2
    shift 2
    local status=0
    "$@" || status=$?
    if (( status != 0 )); then
        if "${back[@]}"; then
            fail "$status" "$what failed (exit $status); switched back to $start; $left; nothing pushed"
        fi
        fail "$status" "$what failed (exit $status), and switching back to $start failed too; $left; nothing pushed"
    fi
}
git switch --quiet -C "$branch"
# --cleanup=whitespace keeps the report's "## ..." headings, whatever commit.cleanup says.
after_switch 'git commit' 'the re-pinned files are left uncommitted' \
    git commit --quiet --no-verify --cleanup=whitespace -F "$tmp/message" -- "${changed[@]}"

push_options=()
if [[ $forge == gitlab ]]; then
    push_options=(-o merge_request.create -o "merge_request.title=$title" -o merge_request.remove_source_branch)
fi
after_switch 'git push' "the commit stays on the local branch $branch" \
    git push --quiet --no-verify --force "${push_options[@]}" "$remote" "HEAD:refs/heads/$branch"
echo "pin-from-update: pushed $branch (${#changed[@]} file(s)) to $remote."

# A merge request description is too long and multi-line for push options;
# set it through the forge's API, e.g. GitLab (token with api scope):
#   curl --fail --request PUT --header "PRIVATE-TOKEN: $TOKEN" \
#       --data-urlencode "description@$report" \
#       "$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$MR_IID"
# (find MR_IID with GET .../merge_requests?source_branch=$branch&state=opened),
# or on GitHub: gh pr create --head "$branch" --title "$title" --body-file "$report".
