// Which package carries this machine's keyward binary. One package per platform, each listed in
// package.json's optionalDependencies with its `os` and `cpu`, so npm installs only the one that
// fits (the way esbuild, biome and lefthook ship theirs). The Linux binaries are static (musl):
// they run on any distribution, glibc or not.
"use strict";

const path = require("path");

/** `${process.platform} ${process.arch}` → the package that carries that binary. */
const PACKAGES = {
  "darwin arm64": "keyward-darwin-arm64",
  "darwin x64": "keyward-darwin-x64",
  "linux arm64": "keyward-linux-arm64",
  "linux x64": "keyward-linux-x64",
  "win32 x64": "keyward-win32-x64",
};

/** The binary's file name on `platform`. */
function exeName(platform) {
  return platform === "win32" ? "keyward.exe" : "keyward";
}

/** The installed binary for this machine; throws an Error saying what to do when there is none. */
function binaryPath() {
  const key = `${process.platform} ${process.arch}`;
  const pkg = PACKAGES[key];
  if (!pkg) {
    throw new Error(
      `keyward: no prebuilt binary for ${key}; install it from source: ./install.sh in a keyward checkout (needs Rust), or pip install keyward-hook`
    );
  }
  try {
    return require.resolve(`${pkg}/bin/${exeName(process.platform)}`);
  } catch (_) {
    throw new Error(
      `keyward: the package ${pkg} is missing (were optional dependencies skipped, e.g. --omit=optional?): reinstall with npm install --include=optional`
    );
  }
}

module.exports = { PACKAGES, exeName, binaryPath, here: path.dirname(__filename) };
