import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../support/databases.ts";
import { freePort, type RunningServer, startServer } from "../support/server.ts";
import { inBatches, shopClient } from "../support/shop-client.ts";
import { waitFor } from "../support/stripe.ts";

const ADMIN_TOKEN = "multi-notices-admin-token-0123456789";
const BUYERS = 120;

/**
 * Update mails with two real server processes on one Postgres (decision 0018): a release is
 * published on each at once, each process's background sender drains both releases' notices
 * (and housekeeping wakes them every second), through a slow mail API so their batches overlap.
 * Each buyer gets each release's mail once: the notices' leases (FOR UPDATE SKIP LOCKED) keep the
 * two senders apart.
 */
describe("update mails with two server processes on one Postgres", () => {
  process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/test";
  let database: TestDatabase;
  let mailApi: Server;
  const mailed: string[] = [];
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    database = await freshDatabase("postgres");
    mailApi = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const message = JSON.parse(body) as { to: string[]; subject: string; headers?: object };
        mailed.push(`${message.subject} -> ${message.to[0]}`);
        setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ id: `email_${mailed.length}` }));
        }, 200);
      });
    });
    await new Promise<void>((ready) => mailApi.listen(0, "127.0.0.1", ready));
    const shared = mkdtempSync(join(tmpdir(), "tollgate-notices-"));
    const env = {
      DATABASE_URL: database.url,
      STORAGE_URL: `file:${join(shared, "files")}`,
      SESSION_SECRET: "n".repeat(64),
      ADMIN_TOKEN,
      MAIL_URL: `http://127.0.0.1:${(mailApi.address() as { port: number }).port}/emails`,
      MAIL_API_KEY: "re_multi_notices_0123456789",
      MAIL_FROM: "Kit Shop <hello@kits.example>",
      HOUSEKEEPING_INTERVAL: "1s",
      // Batches of 50, a batch every quarter second at most.
      RELEASE_MAIL_RATE: "12000",
    };
    for (const i of [0, 1]) {
      const port = await freePort();
      servers.push(
        await startServer(
          [],
          { ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
          mkdtempSync(join(shared, `p${i}-`)),
        ),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await new Promise((done) => (mailApi ? mailApi.close(done) : done(undefined)));
    await database?.drop();
  });

  it("mails each buyer each release once when both processes send", async () => {
    const [one, two] = servers.map((s) => shopClient(s.url, ADMIN_TOKEN)) as [
      ReturnType<typeof shopClient>,
      ReturnType<typeof shopClient>,
    ];
    await one.createProduct("kit-a");
    await one.upload("kit-a", "a.zip", "a bytes");
    await one.createProduct("kit-b");
    await one.upload("kit-b", "b.zip", "b bytes");
    const emails = Array.from({ length: BUYERS }, (_, i) => `buyer-${i}@example.com`);
    await inBatches(emails, 8, async (email, i) => {
      await (i % 2 ? two : one).grant(email, "kit-a");
      await (i % 2 ? one : two).grant(email, "kit-b");
    });
    const published = await Promise.all([
      one.admin("/api/admin/products/kit-a/releases", {
        method: "POST",
        json: { version: "1.1", notify: true },
      }),
      two.admin("/api/admin/products/kit-b/releases", {
        method: "POST",
        json: { version: "2.1", notify: true },
      }),
    ]);
    expect(published.map((r) => r.status)).toEqual([201, 201]);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await waitFor(
        async () => {
          const left = await client.query(
            "select count(*)::int as n from release_notices where status <> 'sent'",
          );
          return left.rows[0].n === 0;
        },
        "every update mail to be sent",
        60_000,
      );
      // Anything sent twice would arrive now, a moment later.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await client.end();
    }
    const expected = emails.flatMap((e) => [
      `Kit kit-a 1.1 is out -> ${e}`,
      `Kit kit-b 2.1 is out -> ${e}`,
    ]);
    expect([...mailed].sort()).toEqual(expected.sort());
    // Both processes took a share.
    const sentBy = servers.map((s) =>
      [...s.output().matchAll(/update mails sent claimed=\d+ sent=(\d+)/g)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      ),
    );
    expect(sentBy.reduce((a, b) => a + b, 0)).toBe(2 * BUYERS);
  }, 90_000);
});
