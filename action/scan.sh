#!/bin/sh
# The GitHub Action's step (action.yml): work out the range, check the clone holds it, get
# keyward, scan. Runs anywhere with sh and git; its inputs are environment variables:
#
#   KEYWARD_RANGE      BASE..HEAD; else from KEYWARD_PR_BASE/KEYWARD_PR_HEAD (pull request) or
#                      KEYWARD_PUSH_BEFORE/KEYWARD_SHA (push; a new branch starts from
#                      origin/KEYWARD_DEFAULT_BRANCH)
#   KEYWARD_FORMAT     output format (github)
#   KEYWARD_OUTPUT     the file the report goes to (default: keyward.sarif for sarif, so the
#                      upload-sarif step finds it and the log stays readable; else the log)
#   KEYWARD_ARGS       more options for keyward scan
#   KEYWARD_INSTALL    auto | pip | cargo | PATH of a keyward binary
#   KEYWARD_ACTION_PATH  the action's checkout (its Cargo.toml gives the version to install)
set -eu

fail() {
    # One annotation for the run's summary, one line for the log.
    printf '::error title=keyward::%s\n' "$*"
    printf 'keyward: error: %s\n' "$*" >&2
    [ -n "${GITHUB_OUTPUT:-}" ] && echo "exit-code=2" >>"$GITHUB_OUTPUT"
    exit 2
}

action=${KEYWARD_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
zero=0000000000000000000000000000000000000000

# The range.
range=${KEYWARD_RANGE:-}
if [ -z "$range" ]; then
    if [ -n "${KEYWARD_PR_BASE:-}" ] && [ -n "${KEYWARD_PR_HEAD:-}" ]; then
        range="$KEYWARD_PR_BASE..$KEYWARD_PR_HEAD"
    elif [ -n "${KEYWARD_PUSH_BEFORE:-}" ] && [ "$KEYWARD_PUSH_BEFORE" != "$zero" ] && [ -n "${KEYWARD_SHA:-}" ]; then
        range="$KEYWARD_PUSH_BEFORE..$KEYWARD_SHA"
    elif [ -n "${KEYWARD_SHA:-}" ] && [ -n "${KEYWARD_DEFAULT_BRANCH:-}" ]; then
        range="origin/$KEYWARD_DEFAULT_BRANCH..$KEYWARD_SHA"
    else
        fail "no range to scan: set the action's range input (BASE..HEAD)"
    fi
fi
case "$range" in
    *..*) ;;
    *) fail "range '$range' is not BASE..HEAD" ;;
esac
base=${range%%..*}
head=${range#*..}
head=${head#.} # BASE...HEAD
[ -n "$head" ] || head=HEAD

# The clone must hold both ends and the commits between: actions/checkout fetches one commit
# unless told otherwise.
shallow=$(git rev-parse --is-shallow-repository 2>/dev/null || echo false)
hint="this clone is shallow (actions/checkout fetches a single commit by default): add 'with: { fetch-depth: 0 }' to the actions/checkout step"
for end in "$base" "$head"; do
    if ! git rev-parse -q --verify "$end^{commit}" >/dev/null 2>&1; then
        [ "$shallow" = true ] && fail "$end is not in this clone; $hint"
        fail "$end is not in this clone: fetch it (git fetch origin $end)"
    fi
done
if [ "$shallow" = true ] && ! git merge-base --is-ancestor "$base" "$head" 2>/dev/null &&
    [ -z "$(git merge-base "$base" "$head" 2>/dev/null)" ]; then
    fail "$base and $head share no history in this clone; $hint"
fi

# keyward itself.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action/Cargo.toml" | head -n 1)
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
exe=
case "$(uname -s 2>/dev/null)" in MINGW*|MSYS*|CYGWIN*) exe=.exe ;; esac
from_pip() {
    venv="$tmp/keyward-venv"
    python=$(command -v python3 || command -v python) || return 1
    "$python" -m venv "$venv" >/dev/null || return 1
    pip="$venv/bin/pip"
    [ -x "$pip" ] || pip="$venv/Scripts/pip$exe"
    "$pip" install --quiet --disable-pip-version-check "keyward-hook==$version" || return 1
    keyward="$venv/bin/keyward"
    [ -x "$keyward" ] || keyward="$venv/Scripts/keyward$exe"
}
from_cargo() {
    sh "$action/install.sh" --prefix "$tmp/keyward" --no-hook || return 1
    keyward="$tmp/keyward/bin/keyward$exe"
}
case "${KEYWARD_INSTALL:-auto}" in
    auto) from_pip || { echo "keyward: no prebuilt keyward-hook==$version; building it with cargo" >&2; from_cargo; } ||
        fail "could not install keyward $version (pip install keyward-hook==$version, then cargo)" ;;
    pip) from_pip || fail "pip install keyward-hook==$version failed" ;;
    cargo) from_cargo || fail "building keyward with cargo failed" ;;
    *) keyward=$KEYWARD_INSTALL; [ -x "$keyward" ] || fail "install: $keyward is not an executable" ;;
esac
"$keyward" --version

# The scan. Its exit code is the step's: 0 clean, 1 findings, 2 error. A SARIF report is a
# file for github/codeql-action/upload-sarif, never the log (where it would follow the
# version line above and be no SARIF file at all).
format=${KEYWARD_FORMAT:-github}
output=${KEYWARD_OUTPUT:-}
[ -z "$output" ] && [ "$format" = sarif ] && output=keyward.sarif
set +e
if [ -n "$output" ]; then
    # shellcheck disable=SC2086 # KEYWARD_ARGS is a list of options
    "$keyward" scan --range "$range" --format "$format" --output "$output" ${KEYWARD_ARGS:-}
else
    # shellcheck disable=SC2086
    "$keyward" scan --range "$range" --format "$format" ${KEYWARD_ARGS:-}
fi
code=$?
set -e
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "exit-code=$code" >>"$GITHUB_OUTPUT"
    echo "output=$output" >>"$GITHUB_OUTPUT"
fi
[ -n "$output" ] && [ "$code" -ne 2 ] && echo "keyward: report written to $output" >&2
exit $code
