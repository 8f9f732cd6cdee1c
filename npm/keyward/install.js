// postinstall: put this platform's binary in place of bin/keyward, so `keyward` (through
// node_modules/.bin) starts the binary directly instead of node first. Everything here is an
// optimisation: on any failure, or on Windows (npm's command shims start bin/keyward with
// node), or with scripts disabled (--ignore-scripts, pnpm's default), bin/keyward stays the
// node launcher and works the same, only slower.
"use strict";

const fs = require("fs");
const path = require("path");
const { binaryPath } = require("./platform.js");

function main() {
  if (process.platform === "win32") return;
  let native;
  try {
    native = binaryPath();
  } catch (e) {
    console.warn(e.message);
    return;
  }
  const bin = path.join(__dirname, "bin", "keyward");
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    try {
      fs.linkSync(native, tmp);
    } catch (_) {
      fs.copyFileSync(native, tmp);
    }
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, bin); // atomic: bin/keyward is always one whole program
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch (_) {}
    console.warn(`keyward: kept the node launcher (${e.message})`);
  }
}

main();
