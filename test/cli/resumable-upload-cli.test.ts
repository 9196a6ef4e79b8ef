/**
 * `tollgate asset add` of a big sparse file (200 MiB; 10 GiB with BIG=1) as a user runs it, in
 * its own process: killed with SIGKILL in the middle of the upload, then `--resume` sends only
 * the parts missing and the stored file's SHA-256 is the file's. Against the local S3 test server
 * (behind a TCP proxy that can hang, so the kill comes while parts are on their way) and against
 * local storage (parts through the shop's verb into the files folder). The resumed process's
 * memory is sampled from /proc: it stays far below the file's size.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const MiB = 1024 * 1024;
const BIG = Boolean(process.env.BIG);
/** 200 MiB and a bit in the normal suite; 10 GiB with BIG=1. */
const SIZE = BIG ? 10 * 1024 * MiB : 200 * MiB + 4321;
const PARTS = Math.ceil(SIZE / (8 * MiB));
const TIMEOUT = BIG ? 3600_000 : 120_000;
/** Far below the 10 GiB file; the benchmark's `uploads` row measured a 428 MiB peak with it. */
const MEMORY_BOUND_MIB = 480;
const TOLLGATE_VARS =
  /^(PORT|PUBLIC_URL|DATABASE_.*|STORAGE_URL|S3_.*|DELIVERY_MODE|DOWNLOAD_.*|MAX_UPLOAD_SIZE|STRIPE_.*|AUTH|SUPABASE_.*|MAIL_.*|SHOP_NAME|SESSION_SECRET|ADMIN_.*|LICENSE_.*|TOLLGATE_.*)$/;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the process, MiB (sampled from /proc). */
  peakRssMiB: number;
}

function start(dir: string, args: string[], env: Record<string, string>) {
  const inherited = Object.entries(process.env).filter(([name]) => !TOLLGATE_VARS.test(name));
  const child = spawn(process.execPath, ["bin/tollgate.js", ...args], {
    cwd: ROOT,
    env: {
      ...Object.fromEntries(inherited),
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      PUBLIC_URL: "http://localhost:9999",
      TOLLGATE_UPLOAD_STATE_DIR: join(dir, "state"),
      MAX_UPLOAD_SIZE: String(20 * 1024 * MiB),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let peak = 0;
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {}
  }, 25);
  const done = new Promise<Run>((resolveRun, fail) => {
    child.on("error", fail);
    child.on("close", (code, signal) => {
      clearInterval(sampler);
      resolveRun({ code, signal, stdout, stderr, peakRssMiB: peak });
    });
  });
  return { child, done };
}

const run = (dir: string, args: string[], env: Record<string, string>) =>
  start(dir, args, env).done;

/** A sparse file of `size` bytes with a distinct marker at the start of each 8 MiB part. */
async function sparseFile(path: string, size: number): Promise<void> {
  const handle = await open(path, "w");
  await handle.truncate(size);
  for (let n = 0; n * 8 * MiB < size; n++) {
    const marker = Buffer.from(`part ${n + 1} of the file ${path}`);
    await handle.write(marker, 0, Math.min(marker.length, size - n * 8 * MiB), n * 8 * MiB);
  }
  await handle.close();
}

function sha256File(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 4 * MiB })
      .on("data", (c) => hash.update(c))
      .on("error", fail)
      .on("end", () => done(hash.digest("hex")));
  });
}

async function until(
  check: () => boolean,
  what: string,
  ms: number,
  child?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (child && child.exitCode !== null) throw new Error(`the CLI ended before ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The value once it has not changed for 300 ms. */
async function settled(read: () => number): Promise<number> {
  let value = read();
  for (let still = 0; still < 300; still += 25) {
    await new Promise((r) => setTimeout(r, 25));
    const now = read();
    if (now !== value) {
      value = now;
      still = -25;
    }
  }
  return value;
}

function kill(child: ChildProcess, done: Promise<Run>): Promise<Run> {
  child.kill("SIGKILL");
  return done;
}

describe("tollgate asset add, killed and resumed, to S3", () => {
  let dir: string;
  let server: S3TestServer;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-resume-s3-"));
    server = await startS3Server({ region: "auto" });
    const target = new URL(server.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    env = {
      STORAGE_URL: "s3://bucket",
      S3_ENDPOINT: `http://${proxy.host}:${proxy.port}`,
      S3_REGION: "auto",
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    };
    const added = await run(
      dir,
      ["product", "add", "--slug", "course", "--name", "Course", "--price", "1900"],
      env,
    );
    expect(added.stderr).toBe("");
    await sparseFile(join(dir, "course.mp4"), SIZE);
  }, TIMEOUT);
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    "a killed upload resumes with --resume, sends only the missing parts, and the file matches",
    async () => {
      const file = join(dir, "course.mp4");
      const first = start(dir, ["asset", "add", "course", file], env);
      const partsIn = () => server.pendingUploads()[0]?.parts ?? 0;
      await until(() => partsIn() >= 3, "three parts in storage", TIMEOUT, first.child);
      // Storage stops answering (parts are on their way), and the CLI is killed.
      proxy.hang();
      const killed = await kill(first.child, first.done);
      expect(killed.signal).toBe("SIGKILL");
      proxy.restore();
      // A part the server had whole when the connection went is still being stored: settle.
      const arrived = await settled(partsIn);
      expect(arrived).toBeGreaterThanOrEqual(3);
      expect(arrived).toBeLessThan(PARTS);
      expect(existsSync(join(dir, "state"))).toBe(true);

      const logFrom = server.log.length;
      const resumed = await run(dir, ["asset", "add", "course", file, "--resume"], env);
      expect(resumed.stderr).toContain(`Resuming: ${arrived} of ${PARTS} parts`);
      expect(resumed.code).toBe(0);
      const expected = await sha256File(file);
      expect(resumed.stdout).toContain("Uploaded course.mp4 (version 1) to course");
      expect(resumed.stdout).toMatch(new RegExp(`sha256\\s+${expected}`));

      // Only the missing parts went again, each to a URL signed for an hour at most.
      const partPuts = server.log
        .slice(logFrom)
        .filter((e) => e.method === "PUT" && e.url.includes("partNumber="));
      expect(partPuts.length).toBe(PARTS - arrived);
      for (const put of partPuts) {
        expect(put.auth).toBe("query");
        expect(Number(new URL(put.url, server.url).searchParams.get("X-Amz-Expires"))).toBe(3600);
      }
      // The stored object is the file, byte for byte.
      const db = new Database(join(dir, "t.db"), { readonly: true });
      const asset = db.prepare("select storage_key, sha256, size from assets").get() as {
        storage_key: string;
        sha256: string;
        size: number;
      };
      db.close();
      expect(asset).toMatchObject({ sha256: expected, size: SIZE });
      const object = server.object(asset.storage_key) as { file: string } | null;
      expect(object).not.toBeNull();
      expect(await sha256File(object?.file ?? "")).toBe(expected);
      expect(server.pendingUploads()).toEqual([]);
      expect(readdirSync(join(dir, "state"))).toEqual([]);
      // Memory stays flat: parts of 8 MiB, four at a time, never the file. The CLI's floor is
      // about 400 MiB on a loaded machine whatever the size, so the 10 GiB run (npm run
      // test:big, in CI) is the one that shows it; this bound only catches a runaway.
      expect(resumed.peakRssMiB).toBeGreaterThan(0);
      expect(resumed.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB);
    },
    TIMEOUT,
  );

  it(
    "without --resume, it says an interrupted upload exists and starts over",
    async () => {
      const file = join(dir, "pack.zip");
      await sparseFile(file, 40 * MiB);
      const first = start(dir, ["asset", "add", "course", file], env);
      await until(
        () => server.pendingUploads().some((u) => u.parts >= 1),
        "a part in storage",
        TIMEOUT,
        first.child,
      );
      proxy.hang();
      await kill(first.child, first.done);
      proxy.restore();
      const again = await run(dir, ["asset", "add", "course", file], env);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/An interrupted upload of this file exists .*--resume/);
      expect(again.stdout).toMatch(new RegExp(`sha256\\s+${await sha256File(file)}`));
      // The interrupted upload was dropped, not left in the bucket.
      expect(server.pendingUploads()).toEqual([]);
    },
    TIMEOUT,
  );
});

describe("tollgate asset add, killed and resumed, to local storage", () => {
  it(
    "writes parts into the files folder, resumes them, and joins them into the file",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "tollgate-resume-local-"));
      const files = join(dir, "files");
      const env = { STORAGE_URL: `file:${files}` };
      await run(
        dir,
        ["product", "add", "--slug", "course", "--name", "Course", "--price", "1900"],
        env,
      );
      const file = join(dir, "course.mp4");
      await sparseFile(file, SIZE);

      const partsDir = () => {
        const products = join(files, "products");
        if (!existsSync(products)) return null;
        for (const p of readdirSync(products)) {
          const found = readdirSync(join(products, p)).find((n) => n.endsWith(".parts"));
          if (found) return join(products, p, found);
        }
        return null;
      };
      const partsIn = () => {
        const parts = partsDir();
        return parts ? readdirSync(parts).filter((n) => /^\d{5}$/.test(n)).length : 0;
      };
      const first = start(dir, ["asset", "add", "course", file], env);
      await until(() => partsIn() >= 3, "three parts in the files folder", TIMEOUT, first.child);
      await kill(first.child, first.done);
      const arrived = await settled(partsIn);
      expect(arrived).toBeLessThan(PARTS);

      const resumed = await run(dir, ["asset", "add", "course", file, "--resume"], env);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toContain(`Resuming: ${arrived} of ${PARTS} parts`);
      const expected = await sha256File(file);
      expect(resumed.stdout).toMatch(new RegExp(`sha256\\s+${expected}`));
      const db = new Database(join(dir, "t.db"), { readonly: true });
      const asset = db.prepare("select storage_key from assets").get() as { storage_key: string };
      db.close();
      expect(await sha256File(join(files, asset.storage_key))).toBe(expected);
      expect(partsDir()).toBeNull();
      expect(resumed.peakRssMiB).toBeLessThan(MEMORY_BOUND_MIB);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});
