// Runs this platform's keyward binary with our arguments, standard streams and environment,
// and exits as it did. Used until install.js has put the binary itself in bin/keyward (and
// always on Windows, where npm's command shims run bin/keyward with node).
"use strict";

const { spawnSync } = require("child_process");
const { binaryPath } = require("./platform.js");

let binary;
try {
  binary = binaryPath();
} catch (e) {
  // Fail closed: as a pre-commit hook, a non-zero exit blocks the commit.
  console.error(e.message);
  console.error("keyward: bypass once (not recommended): git commit --no-verify");
  process.exit(2);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  console.error(`keyward: could not run ${binary}: ${result.error.message}`);
  process.exit(2);
}
if (result.signal) {
  process.kill(process.pid, result.signal);
}
process.exit(result.status === null ? 2 : result.status);
