/**
 * Resumable upload (issue 19): `tollgate asset add {slug} {file}` of a big sparse file (10 GiB;
 * 256 MiB with --quick), as a seller runs it, in its own process, in parts of 8 MiB four at a
 * time to the local S3 test server (test/support/s3-server.ts), against the same command
 * uploading a 64 MiB file in the same run. The figure is the CLI's peak resident memory (VmHWM,
 * read from /proc while it runs): the big upload's over the small one's must stay under 1.5, so
 * memory stays flat whatever the file's size. Throughput (MiB/s, the command from start to end:
 * start-up, parts, the server's SHA-256 check) is shown for information.
 *
 * The S3 test server keeps objects in a folder of its own under the system's temporary folder:
 * the parts and then the joined object (about twice the file at the peak). Each upload gets its
 * own server, closed (its folder removed) and its sparse file deleted right after; the 10 GiB
 * size is skipped when the temporary folder has less than 30 GB free.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startS3Server } from "../test/support/s3-server.ts";
import type { Row, Skipped } from "./report.ts";
import { freshDatabase, type Options, shopEnv } from "./setup.ts";

const ROOT = resolve(import.meta.dirname, "..");
const MiB = 1024 * 1024;
const BASELINE_MiB = 64;
/** The big upload's peak RSS over the baseline's, at most. */
const MEMORY_GOAL = 1.5;
/** Free space the full run needs in the temporary folder (parts and joined object: 21.5 GB). */
const FREE_NEEDED = 30e9;

interface Upload {
  /** Peak resident memory of the CLI process, MiB. */
  peakMiB: number;
  seconds: number;
  /** Peak resident memory of `tollgate product add` on the same shop: the CLI's floor, MiB. */
  floorMiB: number;
}

export async function uploadBenchmark(opts: Options): Promise<Row | Skipped> {
  const bigMiB = opts.quick ? 256 : 10 * 1024;
  const { bavail, bsize } = statfsSync(tmpdir());
  const free = bavail * bsize;
  if (!opts.quick && free < FREE_NEEDED)
    return {
      benchmark: "resumable upload (CLI peak RSS)",
      database: "sqlite",
      reason: `${(free / 1e9).toFixed(1)} GB free in ${tmpdir()}, under the 30 GB the 10 GiB upload needs (its parts and the joined object in the S3 test server's folder)`,
    };

  const rounds = opts.quick ? 1 : 3;
  const small: Upload[] = [];
  for (let round = 0; round < rounds; round++) small.push(await upload(BASELINE_MiB * MiB, opts));
  const big = await upload(bigMiB * MiB, opts);
  // The baseline's median: one noisy small run neither helps nor hurts the ratio.
  const base = [...small].sort((a, b) => a.peakMiB - b.peakMiB)[Math.floor(rounds / 2)] as Upload;
  const ratio = big.peakMiB / base.peakMiB;
  const mibps = (size: number, u: Upload) => Number((size / u.seconds).toFixed(0));
  return {
    benchmark: "resumable upload (CLI peak RSS)",
    database: "sqlite",
    storage: "S3 multipart",
    app: { value: big.peakMiB, unit: "MiB" },
    baseline: { value: base.peakMiB, unit: "MiB" },
    ratio,
    goal: MEMORY_GOAL,
    atMost: true,
    extra: {
      "file MiB": bigMiB,
      "baseline file MiB": BASELINE_MiB,
      "MiB/s": mibps(bigMiB, big),
      "baseline MiB/s": mibps(BASELINE_MiB, base),
      "s for the file": Number(big.seconds.toFixed(1)),
      "product add MiB": Math.round(base.floorMiB),
    },
  };
}

/** One `tollgate asset add` of a sparse file of `size` bytes, on a fresh shop and S3 server. */
async function upload(size: number, opts: Options): Promise<Upload> {
  const dir = mkdtempSync(join(opts.dir, "upload-"));
  const file = join(dir, "course.mp4");
  const s3 = await startS3Server();
  try {
    const database = await freshDatabase("sqlite", opts);
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? ROOT,
      ...shopEnv(database, { kind: "s3", server: s3 }, opts),
      MAX_UPLOAD_SIZE: String(20 * 1024 * MiB),
      TOLLGATE_UPLOAD_STATE_DIR: join(dir, "state"),
    };
    // Also rebuilds the CLI's bundle when the sources changed, before anything is measured.
    const added = await cli(
      ["product", "add", "--slug", "course", "--name", "Course", "--price", "1900"],
      env,
    );
    if (added.code !== 0) throw new Error(`product add failed:\n${added.stderr}`);
    await sparseFile(file, size);
    const run = await cli(["asset", "add", "course", file], env, 120 + size / (5 * MiB));
    if (run.code !== 0 || !run.stdout.includes(`(${size} bytes)`))
      throw new Error(
        `asset add of ${size} bytes failed (${run.code}):\n${run.stdout}${run.stderr}`,
      );
    const keys = s3.keys();
    if (keys.length !== 1 || s3.object(keys[0] as string)?.size !== size)
      throw new Error(`storage holds ${keys.length} objects, not the ${size}-byte file`);
    if (s3.pendingUploads().length) throw new Error("a multipart upload was left open");
    return { peakMiB: run.peakMiB, seconds: run.seconds, floorMiB: added.peakMiB };
  } finally {
    // The stored parts and object go with the server's folder; the sparse file with ours.
    await s3.close();
    rmSync(file, { force: true });
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the CLI in its own process; its peak RSS is the kernel's high-water mark (VmHWM). */
function cli(
  args: string[],
  env: Record<string, string>,
  timeoutSeconds = 120,
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  peakMiB: number;
  seconds: number;
}> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["bin/tollgate.js", ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let peakKb = 0;
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {}
  };
  const sampler = setInterval(sample, 10);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1000);
  return new Promise((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      done({ code, stdout, stderr, peakMiB: peakKb / 1024, seconds });
    });
  });
}

/** A sparse file of `size` bytes with a distinct marker at the start of each 8 MiB part. */
async function sparseFile(path: string, size: number): Promise<void> {
  const handle = await open(path, "w");
  try {
    await handle.truncate(size);
    for (let n = 0; n * 8 * MiB < size; n++)
      await handle.write(Buffer.from(`part ${n + 1} of ${path}`), 0, undefined, n * 8 * MiB);
  } finally {
    await handle.close();
  }
}
