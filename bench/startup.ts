/**
 * Start-up (issue 14): from running `npm start` (the offline demo: migrate a fresh SQLite
 * database, seed the demo product, start the local Stripe, listen) to the first 200 from
 * /healthz, in a fresh data folder each time. Beside it, what `npm start` ran before decision
 * 0013 (`tsx src/cli/main.ts serve --demo`, compiling the TypeScript as it loads), with tsx's
 * compile cache and without it (a fresh clone's first start), and the time `npm run build`
 * takes (what the first start after a change adds). No goal: reported every run.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { Options } from "./setup.ts";

const ROOT = resolve(import.meta.dirname, "..");

export interface StartupFigures {
  /** `npm start` to the first 200 from /healthz, median of the runs, ms. */
  npmStartMs: number;
  npmStartRunsMs: number[];
  /** `tsx src/cli/main.ts serve --demo` (the former `npm start`), tsx's compile cache warm. */
  tsxStartMs: number;
  /** The same with tsx's cache off: every file compiled, as on a fresh clone's first start. */
  tsxColdStartMs: number;
  /** `node scripts/build-node.js`: the bundle, rebuilt by the first start after a change. */
  buildMs: number;
}

export async function startupBenchmark(opts: Options): Promise<StartupFigures> {
  const runs = opts.quick ? 1 : 3;
  const t0 = performance.now();
  // Built now, so each `npm start` below finds the bundle fresh, as every start but the first
  // after a change does.
  execFileSync(process.execPath, [join(ROOT, "scripts/build-node.js")], { stdio: "ignore" });
  const buildMs = performance.now() - t0;
  const npmStartRunsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    npmStartRunsMs.push(await timeToHealthy("npm", ["start"], opts));
  }
  const tsx = join(ROOT, "node_modules/.bin/tsx");
  const formerStart = ["src/cli/main.ts", "serve", "--demo"];
  const tsxStartMs = await timeToHealthy(tsx, formerStart, opts);
  const tsxColdStartMs = await timeToHealthy(tsx, formerStart, opts, { TSX_DISABLE_CACHE: "1" });
  return {
    npmStartMs: median(npmStartRunsMs),
    npmStartRunsMs,
    tsxStartMs,
    tsxColdStartMs,
    buildMs,
  };
}

export const describeStartup = (f: StartupFigures) =>
  `start-up: npm start to the first /healthz 200 in ${Math.round(f.npmStartMs)} ms (median of ${f.npmStartRunsMs.map((ms) => Math.round(ms)).join(", ")}; fresh data folder, bundle built); formerly (tsx compiling at start) ${Math.round(f.tsxStartMs)} ms, ${Math.round(f.tsxColdStartMs)} ms with no compile cache; the bundle builds in ${Math.round(f.buildMs)} ms`;

/** Spawns the command in the repository with a fresh data folder and polls /healthz. */
async function timeToHealthy(
  command: string,
  args: string[],
  opts: Options,
  env: Record<string, string> = {},
): Promise<number> {
  const data = mkdtempSync(join(opts.dir, "startup-"));
  const port = await freePortPair();
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    // Its own process group: npm's children (node) are stopped with it.
    detached: true,
    stdio: "ignore",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? data,
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(data, "tollgate.db")}`,
      STORAGE_URL: `file:${join(data, "files")}`,
      ...env,
    },
  });
  try {
    const deadline = started + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(" ")} exited early`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200)
          return performance.now() - started;
      } catch {}
      if (performance.now() > deadline) throw new Error(`${command} did not answer /healthz`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await stopGroup(child);
  }
}

async function stopGroup(child: ChildProcess) {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((done) => child.once("exit", done));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  await exited;
}

/** A free port whose next one is free too: the demo's local Stripe listens on PORT + 1. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await listenOn(0);
    if (port < 65535 && (await listenOn(port + 1).catch(() => null))) return port;
  }
}

const listenOn = (port: number) =>
  new Promise<number>((done, fail) => {
    const server = createServer().listen(port, "127.0.0.1", () => {
      const { port: got } = server.address() as { port: number };
      server.close(() => done(got));
    });
    server.on("error", fail);
  });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
