/**
 * Proxy streaming (issue 7, benchmark 3): one big file downloaded through the app (signed in,
 * DELIVERY_MODE=proxy, local storage) against Node piping the same stored file in 1 MiB chunks,
 * while the server's resident memory is sampled. Rounds alternate the two; figures are medians.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { DownloadResult } from "./load.ts";
import type { LoadGenerator } from "./processes.ts";
import type { Row } from "./report.ts";
import { freshDatabase, type Options, profileFile, shopEnv, startShop } from "./setup.ts";

const MiB = 1024 * 1024;
const BUYER = "streamer@bench.test";
const MEMORY_GOAL_MiB = 64;

export async function streamingBenchmark(load: LoadGenerator, opts: Options): Promise<Row> {
  const size = (opts.quick ? 64 : 2048) * MiB;
  const file = join(opts.dir, "big.bin");
  writeRandomFile(file, size);

  const database = await freshDatabase("sqlite", opts);
  const env = shopEnv(database, { kind: "local" }, opts, { DELIVERY_MODE: "proxy" });
  const { server, shop } = await startShop("streaming", env, opts);
  try {
    const product = await shop.product("big");
    const asset = await shop.upload("big", "big.bin", { file });
    if (asset.size !== size) throw new Error(`uploaded ${asset.size} bytes, not ${size}`);
    await shop.grant(BUYER, "big");
    const cookie = await shop.signIn(BUYER);
    const appUrl = `${server.url}/download/big/${asset.id}`;
    const pipeUrl = `${server.url}/__bench/pipe/products/${product.id}/${asset.id}`;

    let growth = 0;
    const viaApp = async () => {
      const before = server.rssMiB();
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, server.rssMiB());
      }, 20);
      try {
        return check(await load.download(appUrl, { cookie }), size);
      } finally {
        clearInterval(sampler);
        growth = Math.max(growth, peak - before);
      }
    };
    const viaNode = async () => check(await load.download(pipeUrl), size);

    // The first of each also warms the page cache and the JIT; it is not counted.
    await viaApp();
    await viaNode();
    const app: DownloadResult[] = [];
    const node: DownloadResult[] = [];
    for (let round = 0; round < (opts.quick ? 1 : 3); round++) {
      app.push(await server.profiled(round ? null : profileFile(opts, "streaming"), viaApp));
      node.push(await viaNode());
    }
    const mbps = (r: DownloadResult) => r.bytes / 1e6 / r.seconds;
    const appRate = median(app.map(mbps));
    const nodeRate = median(node.map(mbps));
    return {
      benchmark: "proxy streaming",
      database: "sqlite",
      storage: "local",
      app: { value: appRate, unit: "MB/s" },
      baseline: { value: nodeRate, unit: "MB/s" },
      ratio: appRate / nodeRate,
      goal: 0.9,
      extra: { "file MiB": size / MiB, "RSS growth MiB": Number(growth.toFixed(1)) },
      checks: { [`RSS growth < ${MEMORY_GOAL_MiB} MiB`]: growth < MEMORY_GOAL_MiB },
    };
  } finally {
    await server.stop();
    await database.drop();
  }
}

function check(result: DownloadResult, size: number): DownloadResult {
  if (result.status !== 200 || result.bytes !== size)
    throw new Error(`download: status ${result.status}, ${result.bytes} of ${size} bytes`);
  return result;
}

/** Random bytes (1 MiB repeated), so nothing on the way can compress or skip them. */
function writeRandomFile(path: string, size: number) {
  const block = randomBytes(MiB);
  const fd = openSync(path, "w");
  try {
    for (let written = 0; written < size; written += MiB) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
