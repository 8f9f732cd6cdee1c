#!/bin/sh
# Install the keyward binary and protect repositories with it.
#
#   ./install.sh [--prefix DIR] [--no-hook] [REPO...]
#                                 install DIR/bin/keyward (default ~/.local), then keyward in
#                                 each REPO (default: the repository you are in; outside any,
#                                 the binary alone) — in husky's,
#                                 lefthook's or pre-commit's configuration when the repository
#                                 uses one, else as git's pre-commit and commit-msg hooks;
#                                 --no-hook: binary only
#   ./install.sh --uninstall [REPO...]   take keyward out again, restoring what was there before
#   ./install.sh --check [REPO...]       exit 1, with one line, when what git runs at commit
#                                        does not end in keyward (see keyward status)
#
# Where the binary comes from, first found:
#   1. KEYWARD_PREBUILT=PATH             that binary (CI caches, tests);
#   2. ./keyward beside this script      a release archive (keyward-VERSION-TARGET.tar.gz)
#                                        ships the binary next to install.sh;
#   3. cargo build --release --locked    in this checkout; the binary is the one cargo reports
#                                        for this build (CARGO_TARGET_DIR and build.target-dir
#                                        honoured), so an older build is never installed.
# A prebuilt binary is checked before use: it must run and say it is keyward.
#
# Non-interactive and idempotent: running it twice changes nothing. A hook the repository
# already has is kept and runs after keyward passes.
set -eu

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

src=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-"$HOME/.local"}
mode=install
hook=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --no-hook) hook=no; shift ;;
        --uninstall) mode=uninstall; shift ;;
        --check) mode=check; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see ./install.sh --help)" ;;
        *) break ;;
    esac
done
# No repository named: the one this is run in. Run where there is none (the folder a release
# archive was extracted to), the binary is installed alone and the last line says what next.
outside=no
if [ $# -eq 0 ]; then
    set -- .
    if [ "$mode" = install ] && [ "$hook" = yes ] && ! git rev-parse --git-dir >/dev/null 2>&1; then
        hook=no
        outside=yes
    fi
fi
exe=
case "$(uname -s 2>/dev/null)" in
    MINGW*|MSYS*|CYGWIN*) exe=.exe ;; # Git for Windows' sh
esac
bin="$prefix/bin/keyward$exe"

command -v git >/dev/null 2>&1 || die "git is not installed"
if [ "$hook" = yes ]; then
    for repo in "$@"; do
        [ -d "$repo" ] || die "$repo: no such directory"
        (cd "$repo" && git rev-parse --git-dir >/dev/null 2>&1) || die "$repo is not a git repository"
    done
fi

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

# A binary someone else built: it must run, and be keyward.
usable() {
    [ -f "$1" ] && [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q 'keyward-pre-commit-hook'
}

if [ -n "${KEYWARD_PREBUILT:-}" ]; then
    usable "$KEYWARD_PREBUILT" || die "KEYWARD_PREBUILT=$KEYWARD_PREBUILT is not a keyward binary that runs here"
    built=$KEYWARD_PREBUILT
    say "using the prebuilt $built"
elif [ ! -f "$src/Cargo.toml" ] && usable "$src/keyward$exe"; then
    built="$src/keyward$exe"
    say "using the prebuilt binary of this release archive"
else
    [ -f "$src/Cargo.toml" ] || die "no keyward binary beside this script and no source to build one"
    command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install Rust (https://rustup.rs), or install keyward without it: pip install keyward-hook, npm install --save-dev keyward, or a release archive"
    say "building keyward (release; a first build takes a few minutes)…"
    # Progress goes to the terminal (stderr); cargo's messages (stdout) say where this build's
    # binary is, wherever the target directory is.
    messages=$(mktemp "${TMPDIR:-/tmp}/keyward-build.XXXXXX")
    trap 'rm -f "$messages"' EXIT
    (cd "$src" && cargo build --release --locked --bin keyward --message-format=json-render-diagnostics >"$messages") ||
        die "cargo build failed (see above)"
    built=$(grep '"reason":"compiler-artifact"' "$messages" | grep '"name":"keyward"' | grep '"kind":\["bin"\]' |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | sed 's|\\\\|/|g' | tail -n 1)
    [ -n "$built" ] || die "cargo did not report the keyward binary it built"
    [ -x "$built" ] || die "cargo reported $built, which is not there"
fi

mkdir -p "$prefix/bin" 2>/dev/null || die "cannot create $prefix/bin"
if cmp -s "$built" "$bin" 2>/dev/null; then
    say "$bin is up to date ($("$bin" --version))"
else
    tmp="$bin.new.$$"
    cp "$built" "$tmp" 2>/dev/null || die "cannot write to $prefix/bin"
    chmod 755 "$tmp"
    mv -f "$tmp" "$bin" || { rm -f "$tmp"; die "cannot install $bin"; }
    say "installed $bin ($("$bin" --version))"
fi
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) say "note: $prefix/bin is not on your PATH: git's hook runs keyward by its full path. To type \`keyward\`: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
if [ "$outside" = yes ]; then
    say "not in a git repository, so no repository was set up: to protect one, run \`$bin install\` in it (or ./install.sh PATH/TO/REPO)"
fi
[ "$hook" = yes ] || exit 0
for repo in "$@"; do
    (cd "$repo" && "$bin" install) || die "could not install keyward in $repo"
done
