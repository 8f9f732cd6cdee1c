#!/bin/sh
# Build, here and offline, every release artifact this machine can build:
#
#   scripts/release-artifacts.sh [--out DIR] [TARGET...]
#
# TARGETs default to the static Linux ones, x86_64-unknown-linux-musl and
# aarch64-unknown-linux-musl. For each: the binary (cargo build --release --locked; the aarch64
# one linked by the toolchain's own rust-lld, so no cross compiler is needed), the release
# archive keyward-VERSION-TARGET.tar.gz (the binary, install.sh, README.md — what the release
# workflow publishes), the keyward-hook wheel (scripts/make-wheel.py: python3 alone, no maturin,
# no index) and the npm platform package; then the main npm package and SHA256SUMS of all.
# DIR defaults to target/release-artifacts. A target whose standard library rustup cannot
# install is skipped with one line saying so; no python3 or no npm skips those artifacts the
# same way. Everything else is an error: the script stops at the first failure.
#
# The release workflow (.github/workflows/release.yml) builds the same artifacts on each
# platform's own runner; tests/packaging/release.rs runs this script and installs what it
# made into an environment with no Rust toolchain.
set -eu

say() { printf 'release-artifacts: %s\n' "$*"; }
die() { printf 'release-artifacts: error: %s\n' "$*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/release-artifacts"
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
        --out=*) out=${1#--out=}; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || set -- x86_64-unknown-linux-musl aarch64-unknown-linux-musl

cd "$root"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/npm-stage"
rm -f "$out"/keyward-* "$out"/keyward_hook-* "$out/SHA256SUMS"

have() { command -v "$1" >/dev/null 2>&1; }

# The wheel's platform tags and npm's platform and cpu names of a target.
wheel_tags() {
    case "$1" in
        x86_64-unknown-linux-musl) echo manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_2_x86_64 ;;
        aarch64-unknown-linux-musl) echo manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_2_aarch64 ;;
        *) die "no wheel tags for $1" ;;
    esac
}
npm_platform() {
    case "$1" in
        x86_64-unknown-linux-musl) echo "linux x64" ;;
        aarch64-unknown-linux-musl) echo "linux arm64" ;;
        *) die "no npm platform for $1" ;;
    esac
}

# The binary of one target, built; its path on stdout.
build() {
    target=$1
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target" &&
        ! rustup target add "$target" >/dev/null 2>&1; then
        return 1
    fi
    case "$target" in
        # rust-lld links the target's self-contained musl C library: no aarch64 gcc needed.
        aarch64-unknown-linux-musl) export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld ;;
    esac
    say "building $target (release)…" >&2
    messages=$(mktemp "${TMPDIR:-/tmp}/keyward-release.XXXXXX")
    cargo build --release --locked --bin keyward --target "$target" \
        --message-format=json-render-diagnostics >"$messages" || { rm -f "$messages"; die "cargo build for $target failed"; }
    built=$(grep '"reason":"compiler-artifact"' "$messages" | grep '"kind":\["bin"\]' |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
    rm -f "$messages"
    [ -x "$built" ] || die "cargo did not report the $target binary"
    echo "$built"
}

npm_main=no
for target in "$@"; do
    if ! built=$(build "$target"); then
        say "SKIPPED $target: rustup could not install its standard library"
        continue
    fi
    name="keyward-$version-$target"
    stage="$out/$name"
    rm -rf "$stage"
    mkdir -p "$stage"
    cp "$built" "$stage/keyward"
    cp install.sh README.md "$stage/"
    chmod 755 "$stage/keyward" "$stage/install.sh"
    # Sorted names, one owner and one time: the same binary makes the same archive.
    (cd "$out" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - "$name" |
        gzip -n >"$name.tar.gz")
    rm -rf "$stage"
    say "archive $name.tar.gz"
    if have python3; then
        wheel=$(python3 scripts/make-wheel.py "$version" "$built" "$(wheel_tags "$target")" "$out")
        say "wheel $(basename "$wheel")"
    else
        say "SKIPPED the $target wheel: no python3"
    fi
    if have node && have npm; then
        platform=$(npm_platform "$target")
        cpu=${platform#* }
        platform=${platform% *}
        node npm/make-platform-package.js "$platform" "$cpu" "$built" "$out/npm-stage/$platform-$cpu" >/dev/null
        (cd "$out" && npm pack --silent "$out/npm-stage/$platform-$cpu" >/dev/null)
        say "npm package keyward-$platform-$cpu-$version.tgz"
        npm_main=yes
    else
        say "SKIPPED the $target npm package: no node and npm"
    fi
done
if [ "$npm_main" = yes ]; then
    (cd "$out" && npm pack --silent "$root/npm/keyward" >/dev/null)
    say "npm package keyward-$version.tgz"
fi
rm -rf "$out/npm-stage"
(cd "$out" && ls keyward-* keyward_hook-* 2>/dev/null | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
say "SHA256SUMS ($(wc -l <"$out/SHA256SUMS") artifacts) in $out"
