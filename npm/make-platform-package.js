#!/usr/bin/env node
// Builds the npm package that carries one platform's keyward binary:
//
//   node npm/make-platform-package.js PLATFORM ARCH BINARY OUTDIR
//
// e.g. `linux x64 target/x86_64-unknown-linux-musl/release/keyward dist/npm/linux-x64`.
// PLATFORM and ARCH are node's names (process.platform, process.arch). The version is the main
// package's, which the release checks against Cargo.toml. Then `npm pack OUTDIR` or
// `npm publish OUTDIR`.
"use strict";

const fs = require("fs");
const path = require("path");
const { PACKAGES, exeName } = require("./keyward/platform.js");
const main = require("./keyward/package.json");

const [platform, arch, binary, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node npm/make-platform-package.js PLATFORM ARCH BINARY OUTDIR");
  process.exit(2);
}
const name = PACKAGES[`${platform} ${arch}`];
if (!name) {
  console.error(`no package for ${platform} ${arch}: add it to npm/keyward/platform.js and package.json`);
  process.exit(2);
}
if (main.optionalDependencies[name] !== main.version) {
  console.error(`npm/keyward/package.json lists ${name}@${main.optionalDependencies[name]}, not ${main.version}`);
  process.exit(2);
}
const exe = exeName(platform);
fs.mkdirSync(path.join(out, "bin"), { recursive: true });
fs.copyFileSync(binary, path.join(out, "bin", exe));
fs.chmodSync(path.join(out, "bin", exe), 0o755);
const pkg = {
  name,
  version: main.version,
  description: `The keyward binary for ${platform} ${arch} (installed by the keyward package).`,
  license: main.license,
  os: [platform],
  cpu: [arch],
  files: [`bin/${exe}`],
  preferUnplugged: true,
};
fs.writeFileSync(path.join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
fs.writeFileSync(
  path.join(out, "README.md"),
  `# ${name}\n\nThe keyward binary for ${platform} ${arch}. Install \`keyward\` instead: it picks this package on this platform.\n`
);
console.log(`${name}@${main.version} in ${out}`);
