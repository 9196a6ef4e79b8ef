import { type ChildProcess, fork } from "node:child_process";
import { copyFileSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
// @ts-expect-error: plain JavaScript, run before anything can compile TypeScript.
import { nodeBundleOptions } from "../scripts/build-node.js";
import type { DownloadResult, LoadJob, LoadResult } from "./load.ts";

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, "..");

export interface BenchServer {
  url: string;
  pid: number;
  /** Runs `fn` under the server's CPU profiler and writes the profile to `file` (.cpuprofile). */
  profiled<T>(file: string | null, fn: () => Promise<T>): Promise<T>;
  /** The server process's resident memory now, in MiB (Linux /proc). */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** Where the server's bundle goes: inside the repository, so its native imports resolve. */
export const SERVER_BUNDLE = resolve(ROOT, "bench/results/server/server.js");
let bundled: Promise<unknown> | undefined;

/**
 * bench/server.ts bundled by esbuild as npm start's bundle is (scripts/build-node.js), so the
 * figures are those of the JavaScript that ships. Under tsx every function expression is also
 * given its name at run time (keepNames), which cost a closure-heavy request 9% here.
 */
function bundleServer(): Promise<unknown> {
  mkdirSync(resolve(SERVER_BUNDLE, ".."), { recursive: true });
  copyFileSync(
    resolve(ROOT, "src/local-stripe/fixtures.json"),
    join(resolve(SERVER_BUNDLE, ".."), "fixtures.json"),
  );
  bundled ??= build({
    ...nodeBundleOptions,
    entryPoints: [resolve(HERE, "server.ts")],
    outfile: SERVER_BUNDLE,
    logLevel: "warning",
  });
  return bundled;
}

/** Starts bench/server.ts, bundled, in its own process; its log goes to `logFile`. */
export async function startBenchServer(
  env: Record<string, string>,
  opts: { logFile: string },
): Promise<BenchServer> {
  await bundleServer();
  const log = openSync(opts.logFile, "a");
  const child = fork(SERVER_BUNDLE, [], {
    cwd: ROOT,
    execArgv: (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? ROOT, ...env },
    stdio: ["ignore", log, log, "ipc"],
  });
  const port = await new Promise<number>((done, fail) => {
    child.once("message", (m: { port: number }) => done(m.port));
    child.once("exit", (code) =>
      fail(new Error(`bench server exited (${code}):\n${readFileSync(opts.logFile, "utf8")}`)),
    );
  });
  child.removeAllListeners("exit");
  const pid = child.pid as number;
  const profiler = (message: { profile: "start" | "stop"; file?: string }) =>
    new Promise((done) => {
      child.once("message", done);
      child.send(message);
    });
  return {
    async profiled(file, fn) {
      if (!file) return fn();
      await profiler({ profile: "start" });
      try {
        return await fn();
      } finally {
        await profiler({ profile: "stop", file });
      }
    },
    url: `http://127.0.0.1:${port}`,
    pid,
    rssMiB: () => {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      return Number(kb) / 1024;
    },
    stop: () => stopChild(child),
  };
}

export interface LoadGenerator {
  requests(job: Omit<Extract<LoadJob, { kind: "requests" }>, "kind">): Promise<LoadResult>;
  events(job: Omit<Extract<LoadJob, { kind: "events" }>, "kind">): Promise<LoadResult>;
  download(url: string, headers?: Record<string, string>): Promise<DownloadResult>;
  stop(): Promise<void>;
}

/** bench/load.ts in its own process, kept for the whole run. */
export function startLoadGenerator(): LoadGenerator {
  const child = fork(resolve(HERE, "load.ts"), [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const run = <T>(job: LoadJob) =>
    new Promise<T>((done, fail) => {
      child.once("message", (m: { ok: boolean; result: T; error: string }) =>
        m.ok ? done(m.result) : fail(new Error(m.error)),
      );
      child.send(job);
    });
  return {
    requests: (job) => run({ kind: "requests", ...job }),
    events: (job) => run({ kind: "events", ...job }),
    download: (url, headers) => run({ kind: "download", url, ...(headers ? { headers } : {}) }),
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.disconnect();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
