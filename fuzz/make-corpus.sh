#!/bin/sh
# Regenerates the seed corpora of the index and pack targets from real git: one index of every
# version and extension git writes, and small packs with deltas (offset and reference). The
# other targets' seeds are written by hand. Run from anywhere; it replaces fuzz/corpus/index
# and fuzz/corpus/pack.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$tmp/gitconfig"
export GIT_AUTHOR_NAME=fuzz GIT_AUTHOR_EMAIL=fuzz@example.com
export GIT_COMMITTER_NAME=fuzz GIT_COMMITTER_EMAIL=fuzz@example.com
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z
unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
printf '[init]\n\tdefaultBranch = main\n' > "$tmp/gitconfig"

index="$here/corpus/index"
pack="$here/corpus/pack"
rm -rf "$index" "$pack"
mkdir -p "$index" "$pack"

# A repository with names that exercise sorting and escaping, a symlink, an executable,
# a gitlink; $1 is passed to git init.
repo() {
    rm -rf "$tmp/r"
    git init -q $1 "$tmp/r"
    cd "$tmp/r"
    mkdir -p a/c z/y
    for f in README.md a-b a.b a/b.txt a/c/d.txt a0 'sp ace.txt' 'tab	here' z/y/v.txt; do
        printf '%s\n' "$f" > "$f"
    done
    printf '#!/bin/sh\n' > run.sh && chmod +x run.sh
    ln -s README.md link
    git add .
    blob=$(git rev-parse :README.md)
    git update-index --add --cacheinfo "160000,$blob,sub"
    git commit -qm one
}

save() { cp "$tmp/r/.git/index" "$index/$1"; }

repo ""
save v2
git update-index --assume-unchanged a0 && save v2-assume-unchanged
git write-tree > /dev/null && save v2-cache-tree
echo later > later.txt && git add -N later.txt
git update-index --skip-worktree a.b && save v3-intent-to-add-skip-worktree
git update-index --index-version 4 && save v4
git -c index.threads=3 -c index.recordEndOfIndexEntries=true -c index.recordOffsetTable=true \
    update-index --index-version 2 && save v2-offset-table
git -c index.threads=3 -c index.recordEndOfIndexEntries=true -c index.recordOffsetTable=true \
    update-index --index-version 4 && save v4-offset-table
git -c index.skipHash=true update-index --index-version 2 && save v2-skip-hash

# A path over 4095 bytes: its length field says 0xFFF.
repo ""
long=$(i=0; while [ $i -lt 42 ]; do printf '%02d%098d/' $i 0; i=$((i + 1)); done)
git update-index --add --cacheinfo "100644,$(git rev-parse :README.md),${long}file"
save v2-long-path
git update-index --index-version 4 && save v4-long-path

# Conflicts in stages 1 to 3, a resolved one (REUC), the untracked cache (UNTR).
repo ""
git checkout -q -b other
echo theirs > a0 && echo theirs > a/b.txt && git commit -qam theirs
git checkout -q main
echo ours > a0 && echo ours > a/b.txt && git commit -qam ours
git merge -q other > /dev/null 2>&1 || true
save v2-conflicts
echo both > a0 && git add a0 && save v2-resolve-undo
git -c core.untrackedCache=true status -s > /dev/null && git update-index --untracked-cache
git -c core.untrackedCache=true status -s > /dev/null && save v2-untracked-cache

# Split: the index and its shared index.
repo ""
git update-index --split-index
echo changed > a/b.txt && echo new > new.txt && git add . && git rm -q --cached a0
save split
cp "$tmp"/r/.git/sharedindex.* "$index/split-shared"

# Sparse, with directory entries.
repo ""
git sparse-checkout init --cone --sparse-index
git sparse-checkout set a
save sparse

# SHA-256.
repo "--object-format=sha256"
save sha256-v2
git update-index --index-version 4 && save sha256-v4

# Packs: versions of files stored as offset deltas; a thin pack's reference deltas.
repo ""
i=0
while [ $i -lt 12 ]; do
    { seq 1 $((40 + i * 3)); echo "version $i"; } > a/b.txt
    { echo "token = placeholder"; seq $i 60; } > a/c/d.txt
    git add . && git commit -qm "v$i"
    i=$((i + 1))
done
git repack -adfq --window=10 --depth=20
cp .git/objects/pack/*.pack "$pack/deltas"
git rev-list --objects HEAD~1..HEAD | git pack-objects -q --thin --stdout --revs > "$pack/thin" <<EOF
HEAD
^HEAD~1
EOF
git pack-objects -q --stdout --revs --no-reuse-delta --depth=0 > "$pack/whole" <<EOF
HEAD~10
^HEAD~11
EOF
repo "--object-format=sha256"
git repack -adq
cp .git/objects/pack/*.pack "$pack/sha256"

chmod 644 "$pack"/*
du -sh --apparent-size "$index" "$pack"

# The scanner: every rule's first example and first negative example (templates: the target
# expands `{{alnum:20}}`-style generators, so no seed holds a key), under each of the paths
# the target's first byte picks.
scan="$here/corpus/scan"
rm -rf "$scan" && mkdir -p "$scan"
python3 - "$here/../src/rules/builtin" "$scan" <<'PY'
import glob, os, sys, tomllib
src, out = sys.argv[1], sys.argv[2]
n = 0
for f in sorted(glob.glob(os.path.join(src, "*.toml"))):
    with open(f, "rb") as fh:
        doc = tomllib.load(fh)
    for rule in doc.get("rule", []):
        for kind in ("examples", "negative_examples"):
            for text in rule.get(kind, [])[:1]:
                name = f"{rule['id']}.{kind.split('_')[0]}"
                with open(os.path.join(out, name), "wb") as fh:
                    fh.write(bytes([n % 8]) + text.encode())
                n += 1
PY
du -sh --apparent-size "$scan"
