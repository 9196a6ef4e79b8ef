// The Node build of the CLI and server (decision 0013): src/cli/main.ts and its dependencies
// bundled by esbuild into dist/node/tollgate.js and actions.js, native modules left as imports.
// bin/tollgate.js runs it, and rebuilds it first when the sources changed since, so there is
// still no build step between a change and a run. Plain JavaScript: it runs before anything can compile TypeScript.
//
//   node scripts/build-node.js   builds now (npm run build)
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const OUT_DIR = join(ROOT, "dist", "node");
export const ENTRY = join(OUT_DIR, "tollgate.js");
const STAMP = join(OUT_DIR, "stamp");

/**
 * What the bundle is built from, cheaply: every file under src/ by name, size and modification
 * time, package.json and tsconfig.json. A few milliseconds for the whole tree, so every start
 * checks it.
 */
export function sourceFingerprint() {
  const hash = createHash("sha256");
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const { size, mtimeMs } = statSync(path);
        hash.update(`${path}\0${size}\0${mtimeMs}\n`);
      }
    }
  };
  walk(join(ROOT, "src"));
  for (const file of ["package.json", "tsconfig.json"]) {
    const { size, mtimeMs } = statSync(join(ROOT, file));
    hash.update(`${file}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest("hex");
}

/** True when dist/node/tollgate.js was built from the sources as they are now. */
export function isFresh(fingerprint = sourceFingerprint()) {
  try {
    return readFileSync(STAMP, "utf8") === fingerprint && statSync(ENTRY).isFile();
  } catch {
    return false;
  }
}

/**
 * How Tollgate's Node code is bundled (the CLI here; the benchmark's server, bench/processes.ts,
 * so it measures what npm start runs).
 */
export const nodeBundleOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Dependencies are bundled too: resolving and loading the few thousand files of node_modules
  // one by one was half of the start (0.6 s of 1.1 s to /healthz). Native modules stay imports
  // of node_modules (better-sqlite3; pg-native, which pg asks for only when told to).
  external: ["better-sqlite3", "pg-native"],
  // The bundled CommonJS packages require Node's modules: give the ES module a require.
  banner: {
    js: 'import { createRequire as __tollgateRequire } from "node:module"; const require = __tollgateRequire(import.meta.url);',
  },
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
};

/**
 * The CLI is two bundles: tollgate.js, the front (commander, every command's options, help and
 * examples), and actions.js, what the commands do (the server, the database, the adapters), which
 * the front imports only once a command runs. `--help` and `--version` then start in the time it
 * takes Node to start, instead of compiling the whole shop (0.15 s against 0.3-0.4 s).
 */
const ACTIONS = join(ROOT, "src/cli/actions.ts");
const actionsApart = {
  name: "actions-apart",
  setup(build) {
    build.onResolve({ filter: /actions\.ts$/ }, (args) =>
      args.kind === "dynamic-import" && resolve(args.resolveDir, args.path) === ACTIONS
        ? { path: "./actions.js", external: true }
        : undefined,
    );
  },
};

/**
 * Bundles the CLI. The files are written to a folder beside dist/node (at the same depth, so the
 * source maps' relative paths hold) and renamed into it, the stamp last: processes starting at
 * the same time never load half a file, and at worst build twice.
 */
export async function buildNode({ quiet = false } = {}) {
  const fingerprint = sourceFingerprint();
  const { build } = await import("esbuild");
  const temp = `${OUT_DIR}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(OUT_DIR, { recursive: true });
  try {
    await build({
      ...nodeBundleOptions,
      entryPoints: { tollgate: join(ROOT, "src/cli/main.ts"), actions: ACTIONS },
      outdir: temp,
      plugins: [actionsApart],
      // The launcher falls back to tsx, which reports a broken source itself.
      logLevel: quiet ? "silent" : "warning",
    });
    // The local Stripe reads its fixtures beside its module (new URL("./fixtures.json", import.meta.url)).
    copyFileSync(join(ROOT, "src/local-stripe/fixtures.json"), join(temp, "fixtures.json"));
    // The front last: a process that starts with it finds the actions it was built with.
    for (const file of ["fixtures.json", "actions.js.map", "actions.js", "tollgate.js.map"])
      renameSync(join(temp, file), join(OUT_DIR, file));
    renameSync(join(temp, "tollgate.js"), ENTRY);
    writeFileSync(join(temp, "stamp"), fingerprint);
    renameSync(join(temp, "stamp"), STAMP);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return ENTRY;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  await buildNode();
  console.log(`built ${ENTRY} in ${Math.round(performance.now() - started)} ms`);
}
