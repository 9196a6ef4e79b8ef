/**
 * Download authorization (issue 7, benchmark 1): the signed-in download and the token download,
 * each a 302 to a signed URL, against a bare Hono 302 in the same server. Rounds alternate the
 * three so a noisy neighbour hurts them alike; each figure is the median round.
 */
import type { LoadResult } from "./load.ts";
import type { LoadGenerator } from "./processes.ts";
import { figure, type Row } from "./report.ts";
import { alternatingRounds } from "./rounds.ts";
import {
  type Dialect,
  freshDatabase,
  type Options,
  type Storage,
  shopEnv,
  startShop,
} from "./setup.ts";

const BUYER = "buyer@bench.test";
/** As an independent run with `wrk` measured it: 64 connections, all from one address. */
const CONNECTIONS = 64;
/** Issue 14's goals: each path's share of the bare 302, and its p99 at 64 connections. */
const GOALS = {
  sqlite: { signedIn: 0.3, token: 0.2, p99Ms: 20 },
  postgres: { signedIn: 0.15, token: 0.1, p99Ms: 40 },
};

export async function downloadBenchmarks(
  dialect: Dialect,
  storage: Storage,
  load: LoadGenerator,
  opts: Options,
): Promise<Row[]> {
  const database = await freshDatabase(dialect, opts);
  const env = shopEnv(database, storage, opts, { DELIVERY_MODE: "redirect" });
  const label = `downloads-${dialect}-${storage.kind}`;
  const { server, shop } = await startShop(label, env, opts);
  try {
    await shop.product("kit");
    const asset = await shop.upload("kit", "kit.zip", "the bytes a buyer paid for\n".repeat(100));
    await shop.grant(BUYER, "kit");
    const cookie = await shop.signIn(BUYER);
    const token = await shop.token(BUYER, "kit");

    const targets = {
      bare: { url: `${server.url}/__bench/redirect`, headers: {}, status: "302" },
      signedIn: {
        url: `${server.url}/download/kit/${asset.id}`,
        headers: { cookie },
        status: "302",
      },
      token: { url: `${server.url}/d/${token}/${asset.id}`, headers: {}, status: "302" },
    };
    for (const [name, target] of Object.entries(targets)) {
      const res = await fetch(target.url, { headers: target.headers, redirect: "manual" });
      if (res.status !== 302) throw new Error(`${name}: expected 302, got ${res.status}`);
    }

    const results = await alternatingRounds({ label, server, load, opts }, targets, CONNECTIONS);
    const bare = results.bare;
    const goals = GOALS[dialect];
    const row = (benchmark: string, app: LoadResult, goal: number): Row => ({
      benchmark,
      database: dialect,
      storage: storage.kind === "s3" ? "S3 presign" : "local",
      app: figure(app),
      baseline: figure(bare),
      ratio: app.perSecond / bare.perSecond,
      goal,
      extra: { connections: CONNECTIONS, "p99 goal ms": goals.p99Ms },
      checks: { p99: app.p99Ms <= goals.p99Ms },
    });
    return [
      row("download, signed in", results.signedIn, goals.signedIn),
      row("download, token link", results.token, goals.token),
    ];
  } finally {
    await server.stop();
    await database.drop();
  }
}
