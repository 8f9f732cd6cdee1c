#!/bin/sh
# Build keyward and install it as the pre-commit hook of a repository.
#
#   ./install.sh            protect the repository you are in
#   ./install.sh PATH       protect the repository at PATH
#
# The hook is the keyward binary itself: invoked as `pre-commit`, it scans what the commit
# will record. git says where hooks live (core.hooksPath, linked worktrees), so this script
# asks it instead of assuming .git/hooks. An existing hook that is not keyward's is never
# overwritten.
set -eu

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

src=$(cd "$(dirname "$0")" && pwd)
target=${1:-.}

command -v git >/dev/null 2>&1 || die "git is not installed"
command -v cargo >/dev/null 2>&1 || die "cargo is not installed (https://rustup.rs)"
[ -d "$target" ] || die "$target: no such directory"
top=$(cd "$target" && git rev-parse --show-toplevel 2>/dev/null) \
    || die "$target is not inside a git repository with a working tree"

hooks=$(cd "$top" && git rev-parse --path-format=absolute --git-path hooks) \
    || die "git could not tell where the hooks of $top live"
hook="$hooks/pre-commit"
mkdir -p "$hooks" 2>/dev/null || die "cannot create the hooks directory $hooks"

if [ -e "$hook" ] || [ -L "$hook" ]; then
    # keyward's binary carries this marker; any other hook is the team's and stays.
    if ! grep -q 'keyward-pre-commit-hook' "$hook" 2>/dev/null; then
        die "$hook already exists and is not keyward's; not overwriting it (move it away, or chain it yourself)"
    fi
fi

say "building keyward (release)…"
(cd "$src" && cargo build --release --locked --quiet) || die "cargo build failed"
bin="$src/target/release/keyward"
[ -x "$bin" ] || die "build produced no binary at $bin"

tmp="$hook.keyward-new.$$"
cp "$bin" "$tmp" || die "cannot write to $hooks"
chmod 755 "$tmp"
mv -f "$tmp" "$hook" || { rm -f "$tmp"; die "cannot install $hook"; }
say "installed: $hook"
say "every commit in $top is now scanned; to scan what is staged right now, run the hook: \"$hook\""
