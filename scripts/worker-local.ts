/**
 * The Worker bundle run on this machine in workerd, through Miniflare, with the bindings
 * wrangler.jsonc declares: R2 (in memory, or kept in a folder) and Hyperdrive in front of a
 * Postgres URL. `npm run dev:worker` (scripts/dev-worker.ts) and the Worker tests
 * (test/worker/support.ts) both start it here.
 */
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import type { R2Bucket } from "../src/adapters/storage-r2/index.ts";
import type { WorkerBundle } from "./build-worker.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface WranglerConfig {
  main: string;
  assets: { directory: string };
  compatibility_date: string;
  compatibility_flags: string[];
  hyperdrive: { binding: string }[];
  r2_buckets: { binding: string; bucket_name: string }[];
  triggers: { crons: string[] };
  vars: Record<string, string>;
}

/** wrangler.jsonc as wrangler reads it: JSON with comments. */
export function readWrangler(): WranglerConfig {
  const text = readFileSync(join(ROOT, "wrangler.jsonc"), "utf8");
  // Drop // comments outside strings (URLs in strings keep their //).
  const json = text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*/g, (_, string) => string ?? "");
  return JSON.parse(json) as WranglerConfig;
}

export interface LocalWorker {
  mf: Miniflare;
  url: string;
  /** Fires one of wrangler.jsonc's Cron Triggers as Cloudflare would (by its schedule). */
  scheduled(cron: string): Promise<{ outcome: string }>;
  /** The Worker's R2 bucket, as the Worker sees it. */
  bucket(): Promise<R2Bucket>;
  close(): Promise<void>;
}

/**
 * Starts the bundle on workerd with wrangler.jsonc's compatibility settings and bindings.
 * `vars` are the vars and secrets; `r2Folder` keeps the bucket's objects across restarts (in
 * memory without it); `testScheduled` answers GET /__scheduled?cron=... by running that Cron
 * Trigger, as `wrangler dev --test-scheduled` does (never in a deployed Worker).
 */
export async function startLocalWorker(opts: {
  bundle: WorkerBundle;
  vars: Record<string, string>;
  databaseUrl: string;
  port: number;
  host?: string;
  r2Folder?: string;
  testScheduled?: boolean;
}): Promise<LocalWorker> {
  const wrangler = readWrangler();
  const { file, assets } = opts.bundle;
  quietHyperdriveProxy(opts.databaseUrl);
  const entry = opts.testScheduled ? writeScheduledEntry(file) : file;
  const mf = new Miniflare({
    modules: true,
    scriptPath: entry,
    modulesRoot: dirname(file),
    // The lazy chunks (`import()`: the PDF library) are ES modules, as wrangler.jsonc's rule says.
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: wrangler.compatibility_date,
    compatibilityFlags: wrangler.compatibility_flags,
    r2Buckets: Object.fromEntries(wrangler.r2_buckets.map((b) => [b.binding, b.bucket_name])),
    ...(opts.r2Folder ? { r2Persist: opts.r2Folder } : {}),
    hyperdrives: Object.fromEntries(
      wrangler.hyperdrive.map((h) => [h.binding, withPassword(opts.databaseUrl)]),
    ),
    bindings: opts.vars,
    // The static assets Cloudflare serves before the Worker runs (the API reference, the pages'
    // stylesheet and scripts), with the headers of their _headers file, which wrangler reads and
    // Miniflare does not.
    assets: {
      directory: assets,
      routerConfig: { has_user_worker: true },
      assetConfig: { headers: { version: 2, rules: readHeadersFile(join(assets, "_headers")) } },
    },
    port: opts.port,
    host: opts.host ?? "127.0.0.1",
  });
  const url = (await mf.ready).origin;
  const R2_BINDING = wrangler.r2_buckets[0]?.binding as string;
  return {
    mf,
    url,
    async scheduled(cron) {
      if (!wrangler.triggers.crons.includes(cron))
        throw new Error(`wrangler.jsonc has no Cron Trigger "${cron}"`);
      // Miniflare's types name @cloudflare/workers-types, which this project does not install.
      const worker = (await mf.getWorker()) as unknown as {
        scheduled(event: { scheduledTime: Date; cron: string }): Promise<{ outcome: string }>;
      };
      return worker.scheduled({ scheduledTime: new Date(), cron });
    },
    bucket: async () => (await mf.getR2Bucket(R2_BINDING)) as unknown as R2Bucket,
    close: () => mf.dispose(),
  };
}

/**
 * A module in front of the bundle that runs a Cron Trigger on GET /__scheduled?cron=..., as
 * wrangler's test-scheduled mode does, and hands every other request to the Worker.
 */
function writeScheduledEntry(bundleFile: string): string {
  const entry = join(dirname(bundleFile), "dev-entry.js");
  writeFileSync(
    entry,
    `import worker from "./${bundleFile.split(/[\\/]/).pop()}";
export default {
  ...worker,
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname !== "/__scheduled") return worker.fetch(request, env, ctx);
    const cron = url.searchParams.get("cron") ?? "* * * * *";
    await worker.scheduled({ cron, scheduledTime: Date.now(), noRetry() {} }, env, ctx);
    return new Response(\`Ran scheduled event for "\${cron}"\\n\`);
  },
};
`,
  );
  return entry;
}

/** Cloudflare's _headers file as wrangler hands it on: each path's headers to set. */
function readHeadersFile(file: string): Record<string, { set: Record<string, string> }> {
  const rules: Record<string, { set: Record<string, string> }> = {};
  let current: Record<string, string> | null = null;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      current = {};
      rules[line.trim()] = { set: current };
      continue;
    }
    const colon = line.indexOf(":");
    if (!current || colon < 0) throw new Error(`${file}: cannot read "${line}"`);
    current[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return rules;
}

/** Miniflare refuses a Hyperdrive origin without a password; a local Postgres may trust anyone. */
function withPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (!url.password) url.password = "unused";
  return url.toString();
}

const origins = new Set<string>();
let quieted = false;
/**
 * Miniflare's local Hyperdrive relays each connection between two Node sockets that have no
 * error listener, and pg on Workers closes its socket without waiting for Postgres's goodbye:
 * a reset on either side would then crash this process. Those sockets get a listener: the
 * ones Miniflare accepts from workerd, and the ones it opens to a Hyperdrive origin.
 */
function quietHyperdriveProxy(databaseUrl: string): void {
  const { hostname, port } = new URL(databaseUrl);
  origins.add(`${hostname}:${port || "5432"}`);
  if (quieted) return;
  quieted = true;
  const ignore = () => {};
  const createServer = net.createServer;
  net.createServer = ((...args: Parameters<typeof net.createServer>) => {
    const server = createServer(...args);
    server.on("connection", (socket) => socket.on("error", ignore));
    return server;
  }) as typeof net.createServer;
  const connect = net.connect;
  net.connect = ((...args: Parameters<typeof net.connect>) => {
    const socket = connect(...(args as unknown as [net.NetConnectOpts]));
    const [options] = args as unknown as [{ host?: string; port?: number | string }];
    if (typeof options === "object" && origins.has(`${options.host}:${options.port}`))
      socket.on("error", ignore);
    return socket;
  }) as typeof net.connect;
}
