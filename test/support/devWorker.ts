import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePortPair, type RunningServer, untilReady } from "./server.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const DEV_WORKER = join(ROOT, "scripts/dev-worker.ts");

/**
 * Starts `npm run dev:worker` (scripts/dev-worker.ts through tsx) as its own process in a fresh
 * folder, as a seller would in a clone, and waits until /readyz answers. `env.DATABASE_URL` must
 * name a Postgres database (it migrates it on start); its ./data (secrets.json, the local R2
 * bucket, the local Stripe's state) is under `dir`. Without STRIPE_SECRET_KEY the local Stripe
 * listens on PORT+1, as beside `tollgate serve`.
 */
export async function startDevWorker(env: Record<string, string>): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-devworker-"));
  const port = env.PORT ? Number(env.PORT) : await freePortPair();
  const fullEnv = { PORT: String(port), ...env };
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [TSX, DEV_WORKER], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...fullEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  // The Worker is bundled and workerd started before it answers: seconds, more on a busy machine.
  await untilReady(child, url, () => output, "dev:worker");
  return {
    url,
    dir,
    pid: child.pid as number,
    env: fullEnv,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
