#!/usr/bin/env node
// Runs the CLI as JavaScript (decision 0013): dist/node/tollgate.js, bundled from src/ by esbuild,
// rebuilt here first whenever the sources changed since, so there is no build step to remember
// between a change and a run. Where it cannot be built (esbuild left out of the install, a
// read-only folder), the TypeScript runs through tsx, as before: slower to start, same program.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = new URL("../", import.meta.url);
let entry = null;
try {
  const { buildNode, ENTRY, isFresh } = await import("../scripts/build-node.js");
  if (!existsSync(new URL("src", root))) entry = ENTRY;
  else if (isFresh()) entry = ENTRY;
  else entry = await buildNode({ quiet: true });
} catch {
  entry = null;
}
// Stack traces name the TypeScript files and lines (dist/node/tollgate.js.map).
process.setSourceMapsEnabled(true);
if (entry) {
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import("tsx/esm/api");
  // The project's tsconfig is named explicitly: the CLI may run from any folder.
  register({ tsconfig: fileURLToPath(new URL("tsconfig.json", root)) });
  await import("../src/cli/main.ts");
}
