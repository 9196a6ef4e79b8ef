/**
 * Licence validation (issue 15): `POST /api/v1/licenses/validate` with a key and an activated
 * fingerprint, as a seller's app sends it at start, against the bare Hono 302 in the same server.
 * The rate limits count as always, set high enough (LICENSE_RATE_LIMIT) that the one address
 * the load comes from is not refused. Rounds alternate; each figure is the median round.
 */
import type { LoadGenerator } from "./processes.ts";
import { figure, type Row } from "./report.ts";
import { alternatingRounds } from "./rounds.ts";
import { type Dialect, freshDatabase, type Options, shopEnv, startShop } from "./setup.ts";

const CONNECTIONS = 64;
const GOAL = 0.3;

export async function licenseBenchmarks(
  dialect: Dialect,
  load: LoadGenerator,
  opts: Options,
): Promise<Row[]> {
  const database = await freshDatabase(dialect, opts);
  const env = shopEnv(database, { kind: "local" }, opts, { LICENSE_RATE_LIMIT: "100000000" });
  const label = `licenses-${dialect}`;
  const { server, shop } = await startShop(label, env, opts);
  try {
    await shop.expect("/api/admin/products", 201, {
      method: "POST",
      json: {
        slug: "app",
        name: "Bench app",
        price: { amount: 1900, currency: "usd" },
        license: { enabled: true, activationLimit: 3 },
      },
    });
    await shop.grant("buyer@bench.test", "app");
    const { licenses } = await shop.expect<{ licenses: { key: string }[] }>(
      "/api/admin/licenses?email=buyer%40bench.test",
      200,
    );
    const key = licenses[0]?.key;
    const json = { "content-type": "application/json" };
    await shop.expect("/api/v1/licenses/activate", 200, {
      method: "POST",
      json: { key, fingerprint: "bench-machine" },
    });
    const body = JSON.stringify({ key, fingerprint: "bench-machine" });
    const targets = {
      bare: { url: `${server.url}/__bench/redirect`, headers: {}, status: "302" },
      echo: { url: `${server.url}/__bench/echo`, headers: json, body, status: "200" },
      validate: {
        url: `${server.url}/api/v1/licenses/validate`,
        headers: json,
        body,
        status: "200",
      },
    };
    const check = await fetch(targets.validate.url, { method: "POST", headers: json, body });
    const answer = (await check.json()) as { valid?: boolean };
    if (!answer.valid) throw new Error(`validate: ${check.status} ${JSON.stringify(answer)}`);

    const results = await alternatingRounds({ label, server, load, opts }, targets, CONNECTIONS);
    const bare = results.bare;
    const app = results.validate;
    return [
      {
        benchmark: "licence validate",
        database: dialect,
        storage: "-",
        app: figure(app),
        baseline: figure(bare),
        ratio: app.perSecond / bare.perSecond,
        goal: GOAL,
        // The JSON echo tells how much of the gap is Node taking a POST body at all.
        extra: {
          connections: CONNECTIONS,
          "JSON echo req/s": Math.round(results.echo.perSecond),
        },
      },
    ];
  } finally {
    await server.stop();
    await database.drop();
  }
}
