#!/bin/sh
# Build keyward, install the binary, and protect repositories with its pre-commit hook.
#
#   ./install.sh [--prefix DIR] [REPO...]   build once, install DIR/bin/keyward (default
#                                            ~/.local), install the hook in each REPO (default:
#                                            the repository you are in)
#   ./install.sh --uninstall [REPO...]       remove the hook, restoring what was there before
#   ./install.sh --check [REPO...]           exit 1, with one line, when a hook is missing, not
#                                            keyward's, or older than the installed binary
#
# Non-interactive and idempotent: running it twice changes nothing. A hook the repository
# already has (husky, lefthook, pre-commit, hand-written) is kept and runs after keyward passes.
# git says where hooks live (core.hooksPath, linked worktrees). KEYWARD_PREBUILT=PATH installs
# that binary instead of building one (used by the tests).
set -eu

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

src=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-"$HOME/.local"}
mode=install
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --uninstall) mode=uninstall; shift ;;
        --check) mode=check; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see ./install.sh --help)" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || set -- .
bin="$prefix/bin/keyward"

command -v git >/dev/null 2>&1 || die "git is not installed"
for repo in "$@"; do
    [ -d "$repo" ] || die "$repo: no such directory"
    (cd "$repo" && git rev-parse --git-dir >/dev/null 2>&1) || die "$repo is not a git repository"
done

case "$mode" in
    check)
        [ -x "$bin" ] || die "keyward is not installed at $bin: run ./install.sh"
        status=0
        for repo in "$@"; do
            (cd "$repo" && "$bin" status) || status=1
        done
        exit $status
        ;;
    uninstall)
        [ -x "$bin" ] || die "keyward is not installed at $bin; nothing to uninstall"
        for repo in "$@"; do
            (cd "$repo" && "$bin" uninstall) || exit 1
        done
        exit 0
        ;;
esac

if [ -n "${KEYWARD_PREBUILT:-}" ]; then
    built=$KEYWARD_PREBUILT
else
    command -v cargo >/dev/null 2>&1 || die "cargo is not installed (https://rustup.rs)"
    say "building keyward (release)…"
    (cd "$src" && cargo build --release --locked --quiet) || die "cargo build failed"
    built="$src/target/release/keyward"
fi
[ -x "$built" ] || die "no keyward binary at $built"

mkdir -p "$prefix/bin" 2>/dev/null || die "cannot create $prefix/bin"
if ! cmp -s "$built" "$bin" 2>/dev/null; then
    tmp="$bin.new.$$"
    cp "$built" "$tmp" 2>/dev/null || die "cannot write to $prefix/bin"
    chmod 755 "$tmp"
    mv -f "$tmp" "$bin" || { rm -f "$tmp"; die "cannot install $bin"; }
    say "installed $bin ($("$bin" --version))"
fi
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) say "note: $prefix/bin is not on your PATH (the hook finds keyward by its full path anyway)" ;;
esac
for repo in "$@"; do
    (cd "$repo" && "$bin" install) || die "could not install the hook in $repo"
done
