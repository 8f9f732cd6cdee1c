#!/usr/bin/env python3
"""Write the keyward-hook wheel for one prebuilt binary, with Python's standard library only.

    make-wheel.py VERSION BINARY TAGS OUT_DIR

The wheel is what maturin's `bindings = "bin"` makes (pyproject.toml): no Python code, the
binary as the distribution's one script, so `pip install` puts `keyward` on the environment's
PATH. It is written here rather than by maturin so that scripts/release-artifacts.sh can build
every artifact offline, from the binaries it has just built, without a package from an index.
TAGS is the platform part of the wheel's name, compressed tag sets allowed (a static Linux
binary runs on glibc and musl alike:
`manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_2_x86_64`). The metadata is read from
pyproject.toml and README.md beside this script's directory, so the two cannot drift apart.
"""

import base64
import hashlib
import os
import sys
import tomllib
import zipfile

# Every file gets one timestamp: the same inputs make the same wheel, byte for byte.
EPOCH = (1980, 1, 1, 0, 0, 0)


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def metadata(project, version, readme):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {version}",
        f"Summary: {project['description']}",
        f"Keywords: {','.join(project.get('keywords', []))}",
        f"License: {project['license']['text']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += ["Description-Content-Type: text/markdown; charset=UTF-8", "", readme]
    return "\n".join(lines).encode()


def main(argv):
    if len(argv) != 5:
        sys.exit("usage: make-wheel.py VERSION BINARY TAGS OUT_DIR")
    version, binary, tags, out = argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    dist = project["name"].replace("-", "_")
    exe = ".exe" if binary.endswith(".exe") else ""
    with open(binary, "rb") as f:
        program = f.read()
    info = f"{dist}-{version}.dist-info"
    wheel_tags = [f"py3-none-{t}" for t in tags.split(".")]
    files = [
        (f"{dist}-{version}.data/scripts/keyward{exe}", program, 0o755),
        (f"{info}/METADATA", metadata(project, version, readme), 0o644),
        (
            f"{info}/WHEEL",
            "\n".join(
                ["Wheel-Version: 1.0", "Generator: keyward make-wheel.py", "Root-Is-Purelib: false"]
                + [f"Tag: {t}" for t in wheel_tags]
            ).encode()
            + b"\n",
            0o644,
        ),
    ]
    record = "\n".join([record_line(n, d) for n, d, _ in files] + [f"{info}/RECORD,,"]) + "\n"
    files.append((f"{info}/RECORD", record.encode(), 0o644))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"{dist}-{version}-py3-none-{tags}.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in files:
            entry = zipfile.ZipInfo(name, EPOCH)
            entry.external_attr = (0o100000 | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)
    print(path)


if __name__ == "__main__":
    main(sys.argv)
