import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

/**
 * Builds the CLI bundle once, before any test starts a `tollgate` process. Left to the launcher,
 * the first servers of a fresh clone's run each bundled the shop at the same moment on a two-core
 * machine, and two of them once stayed silent past the tests' patience (CI, stop 28).
 */
export default function setup() {
  execFileSync(process.execPath, [resolve(import.meta.dirname, "../../scripts/build-node.js")], {
    stdio: "ignore",
  });
}
