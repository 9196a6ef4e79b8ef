import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli as runCli } from "../support/cli.ts";
import { type RunningServer, startServer } from "../support/server.ts";

/**
 * Issue 12, item 1: what a fresh `tollgate serve` shows to the network. This machine's own
 * non-loopback address stands in for "another host": a connection to it arrives from that
 * address, not from loopback.
 */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === "IPv4" && !i.internal)?.address;

/** A GET with the headers we choose (fetch forbids none of these, but keep it explicit). */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe.skipIf(!networkAddress)("a shop started with defaults serves only its own machine", () => {
  let shop: RunningServer;
  beforeAll(async () => {
    shop = await startServer(["--demo"]);
  });
  afterAll(() => shop?.stop());

  it("listens on loopback only: the network address refuses the connection", async () => {
    const port = new URL(shop.url).port;
    expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await expect(get(`http://${networkAddress}:${port}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    expect(shop.output()).toMatch(/listening on 127\.0\.0\.1:/);
  });
});

describe.skipIf(!networkAddress)("a shop listening on every address (--host 0.0.0.0)", () => {
  let shop: RunningServer;
  let port: string;
  beforeAll(async () => {
    // PUBLIC_URL on loopback, as the offline demo has it: the outbox must still not open to others.
    shop = await startServer(["--demo", "--host", "0.0.0.0"]);
    port = new URL(shop.url).port;
  });
  afterAll(() => shop?.stop());

  it("keeps the outbox from other hosts, so nobody can read the seller's sign-in link", async () => {
    const outside = `http://${networkAddress}:${port}`;
    const asked = await postJson(`${outside}/auth/login`, { email: "seller@example.com" });
    expect(asked.status).toBe(202);

    const fromNetwork = await get(`${outside}/dev/outbox`);
    expect(fromNetwork.status).toBe(401);
    expect(fromNetwork.body).not.toContain("/auth/callback?token=");

    // The same machine reads it, unless a proxy relayed the request on someone else's behalf.
    const fromHere = await get(`http://127.0.0.1:${port}/dev/outbox`);
    expect(fromHere.status).toBe(200);
    expect(fromHere.body).toContain("/auth/callback?token=");
    for (const header of ["x-forwarded-for", "forwarded", "x-real-ip"]) {
      const relayed = await get(`http://127.0.0.1:${port}/dev/outbox`, {
        [header]: header === "forwarded" ? "for=203.0.113.9" : "203.0.113.9",
      });
      expect(relayed.status, header).toBe(401);
      expect(relayed.body).not.toContain("/auth/callback?token=");
    }
  });

  it("says at start that the shop is reachable beyond this machine", () => {
    expect(shop.output()).toMatch(/listening on 0\.0\.0\.0:/);
    expect(shop.output()).toMatch(/anyone on the network can reach the shop/);
  });
});

describe("doctor on the network settings", () => {
  const cli = (args: string[], env: Record<string, string>) =>
    runCli(args, {
      DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "tg-")), "t.db")}`,
      ...env,
    });
  it("warns when the shop listens beyond loopback with outbox mail", async () => {
    const beyond = await cli(["doctor"], { HOST: "0.0.0.0" });
    expect(beyond.stdout).toMatch(/! network\s+HOST 0\.0\.0\.0 listens beyond this machine/);
    const local = await cli(["doctor"], {});
    expect(local.stdout).toMatch(/✓ network\s+listening on 127\.0\.0\.1 \(this machine only\)/);
  });

  it("explains a TRUST_PROXY it cannot read", async () => {
    const bad = await cli(["doctor"], { TRUST_PROXY: "the load balancer" });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ config\s+TRUST_PROXY must be a hop count like 1/);
    const badAddress = await cli(["doctor"], { TRUST_PROXY: "10.0.0.0/99" });
    expect(badAddress.code).toBe(1);
    expect(badAddress.stdout).toMatch(/TRUST_PROXY/);
  });
});

describe("behind a proxy (TRUST_PROXY)", () => {
  /** Sign-in requests from one client (as the proxy names it) until the shop says 429. */
  async function signInsUntilLimited(url: string, client: string): Promise<number> {
    for (let n = 1; n <= 200; n++) {
      const res = await postJson(
        `${url}/auth/login`,
        { email: `visitor-${client}-${n}@example.com` },
        { "x-forwarded-for": client },
      );
      if (res.status === 429) return n;
      expect(res.status).toBe(202);
    }
    throw new Error("never limited");
  }

  it("gives each client behind the proxy a bucket of its own", async () => {
    const shop = await startServer([], { TRUST_PROXY: "loopback" });
    try {
      const limitedAt = await signInsUntilLimited(shop.url, "203.0.113.1");
      expect(limitedAt).toBeGreaterThan(1);
      const other = await postJson(
        `${shop.url}/auth/login`,
        { email: "someone-else@example.com" },
        { "x-forwarded-for": "203.0.113.2" },
      );
      expect(other.status).toBe(202);
    } finally {
      await shop.stop();
    }
  });

  it("without it, a forwarded address is not believed: a client cannot pick its own bucket", async () => {
    const shop = await startServer([]);
    try {
      await signInsUntilLimited(shop.url, "203.0.113.1");
      const spoofed = await postJson(
        `${shop.url}/auth/login`,
        { email: "someone-else@example.com" },
        { "x-forwarded-for": "203.0.113.2" },
      );
      expect(spoofed.status).toBe(429);
    } finally {
      await shop.stop();
    }
  });
});
