import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";
import { shopClient } from "../support/shop-client.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

/**
 * Two real `tollgate serve` processes on one Postgres, ticking their jobs every second
 * (decision 0012): every pass of a job runs in one process, never two at once, and each piece of
 * work (an expired row, a stale checkout, an event no webhook brought) is done once.
 */
describe("background jobs with two processes on one Postgres", () => {
  let servers: ServerProcesses;
  let client: pg.Client;

  beforeAll(async () => {
    servers = await startServers({
      count: 2,
      env: { HOUSEKEEPING_INTERVAL: "1s", RECONCILE_INTERVAL: "1s" },
      // Every webhook is lost: only reconcile can bring the payments in.
      webhookUrl: "http://127.0.0.1:9/nowhere",
    });
    client = new pg.Client({ connectionString: servers.database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await servers?.stop();
  });

  const lines = (message: string) =>
    servers
      .output()
      .split("\n")
      .filter((line) => line.includes(` ${message} `) || line.endsWith(` ${message}`));
  const field = (line: string, name: string) =>
    Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1]);
  const sum = (message: string, name: string) =>
    lines(message).reduce((total, line) => total + field(line, name), 0);

  it("deletes each expired row once and abandons a stale checkout once", async () => {
    const now = Date.now();
    for (let i = 0; i < 40; i++) {
      await client.query(
        `insert into login_tokens (token_hash, code_hash, email, attempts, expires_at, created_at)
         values ($1, $2, $3, 0, $4, $4)`,
        [`expired-${i}`, `code-${i}`, `b${i}@example.com`, now - 60_000],
      );
    }
    const shop = shopClient(servers.urls[0] as string, servers.adminToken);
    await shop.createProduct("stale");
    const { orderId } = await shop.startCheckout("stale");
    await client.query("update orders set created_at = $1 where id = $2", [
      now - 26 * 3600_000,
      orderId,
    ]);
    await waitFor(async () => {
      const left = await client.query("select count(*)::int as n from login_tokens");
      const order = await client.query("select status from orders where id = $1", [orderId]);
      return left.rows[0].n === 0 && order.rows[0].status === "abandoned";
    }, "the sweep");
    // Each process reports what it deleted: together exactly what there was.
    await waitFor(async () => sum("expired records deleted", "loginTokens") === 40, "the report");
    expect(sum("unpaid checkouts abandoned", "orders")).toBe(1);
  });

  it("applies each event that no webhook brought once, through reconcile", async () => {
    const shop = shopClient(servers.urls[1] as string, servers.adminToken);
    await shop.createProduct("missed");
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const checkout = await shop.startCheckout("missed");
      expect((await payOnHostedPage(checkout.url, { email: `m${i}@example.com` })).status).toBe(
        303,
      );
      orders.push(checkout.orderId);
    }
    await waitFor(async () => {
      const paid = await client.query(
        "select count(*)::int as n from orders where id = any($1) and status = 'paid'",
        [orders],
      );
      return paid.rows[0].n === 3;
    }, "the payments, through reconcile");
    const grants = await client.query(
      "select count(*)::int as n from entitlements where source_ref = any($1)",
      [orders],
    );
    expect(grants.rows[0].n).toBe(3);
    // Every event recorded was applied by exactly one pass, whichever process ran it.
    const events = await client.query("select count(*)::int as n from webhook_events");
    await waitFor(
      async () => sum("reconcile finished", "applied") === events.rows[0].n,
      "the reconcile reports",
    );
    expect(events.rows[0].n).toBeGreaterThanOrEqual(3);
  });

  it("runs each pass in one process at a time, one interval apart", async () => {
    // Every process's log, in time order: a job's passes never overlap across processes.
    const passes = (job: string) => {
      const events = [...lines("job started"), ...lines("job finished")]
        .filter((line) => line.includes(` job=${job} `))
        .map((line) => {
          const at = /^\[\d+\] (\S+)/.exec(line)?.[1] as string;
          return { at: Date.parse(at), started: line.includes(" job started ") };
        })
        .sort((a, b) => a.at - b.at || Number(a.started) - Number(b.started));
      let open = 0;
      let most = 0;
      for (const event of events) {
        open += event.started ? 1 : -1;
        most = Math.max(most, open);
      }
      const starts = events.filter((e) => e.started).map((e) => e.at);
      const spanMs = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
      return { count: starts.length, most, spanMs };
    };
    for (const job of ["sweep", "reconcile"]) {
      await waitFor(async () => passes(job).count >= 8, `eight ${job} passes`);
      const { count, most, spanMs } = passes(job);
      expect(most, `${job} passes at once`).toBe(1);
      // Passes start one second apart (by each claimer's clock, before its claim's round trip;
      // the log line comes after it), so n passes span at least n - 1 seconds less the first's
      // delay in logging. Two processes each ticking every second would make twice as many.
      expect(count, `${job} passes in ${spanMs} ms`).toBeLessThanOrEqual(
        Math.floor(spanMs / 1000) + 2,
      );
      const row = await client.query("select runs from job_leases where name = $1", [job]);
      expect(row.rows[0].runs).toBeGreaterThanOrEqual(count);
    }
    expect(servers.output()).not.toContain("job lease lost");
  });

  it("waits for a dead holder's lease to lapse, then another process takes the job over", async () => {
    // As if a process had claimed the sweep and died in the middle of it, its lease 4 s long:
    // taken only while nobody holds the job, so no live pass straddles the moment.
    let diedAt = 0;
    await waitFor(async () => {
      diedAt = Date.now();
      const taken = await client.query(
        `update job_leases set holder = 'dead-host:1:000000', locked_until = $1, next_run_at = $2
         where name = 'sweep' and locked_until <= $2`,
        [diedAt + 4000, diedAt],
      );
      return taken.rowCount === 1;
    }, "a moment when nobody runs the sweep");
    const startsAfter = () =>
      lines("job started")
        .filter((line) => line.includes(" job=sweep "))
        .map((line) => Date.parse(/^\[\d+\] (\S+)/.exec(line)?.[1] as string))
        .filter((at) => at > diedAt);
    const [first] = await waitFor(async () => {
      const starts = startsAfter();
      return starts.length ? starts : null;
    }, "a sweep after the dead holder's lease");
    // None starts until the lease is over (each process's clock is this machine's).
    expect(first as number).toBeGreaterThanOrEqual(diedAt + 4000);
    const row = await client.query("select holder from job_leases where name = 'sweep'");
    expect(row.rows[0].holder).not.toBe("dead-host:1:000000");
  });
});
