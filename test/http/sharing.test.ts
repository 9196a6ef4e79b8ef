import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { db } from "../../src/core/context.ts";
import { deviceOf, networkOf } from "../../src/core/downloads/sharing.ts";
import { dialects } from "../support/databases.ts";
import { ADMIN_TOKEN, type Harness, makeHarness } from "../support/harness.ts";

const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

describe("what a download leaves as evidence", () => {
  it("keeps only the network of an address: an IPv4 /24, an IPv6 /48", () => {
    expect(networkOf("203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkOf("::ffff:198.51.100.9")).toBe("198.51.100.0/24");
    expect(networkOf("2001:db8:abcd:12:1::5")).toBe("2001:db8:abcd::/48");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0::/48");
    expect(networkOf("::1")).toBe("0:0:0::/48");
    expect(networkOf(null)).toBe("unknown");
    expect(networkOf("not an address")).toBe("unknown");
    expect(networkOf("999.1.1.1")).toBe("unknown");
  });
  it("labels a device by its browser's and system's families, no versions", () => {
    expect(deviceOf(FIREFOX)).toBe("Firefox on Windows");
    expect(deviceOf(SAFARI)).toBe("Safari on iOS");
    expect(
      deviceOf(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
      ),
    ).toBe("Edge on macOS");
    expect(deviceOf("curl/8.5.0")).toBe("curl");
    expect(deviceOf("")).toBe("unknown");
  });
});

describe.each(dialects)("sharing detection (%s)", (dialect) => {
  let h: Harness;
  let server: ServerType;
  let base: string;
  beforeAll(async () => {
    // Behind a proxy on this machine, so each request can come from a network of its own.
    h = await makeHarness(dialect, { TRUST_PROXY: "loopback" });
    server = serve({ fetch: h.runtime.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((done) => server.once("listening", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await h.close();
  });

  /** A request from `ip` (the proxy's X-Forwarded-For), as a browser or a program asks. */
  async function from(
    ip: string,
    path: string,
    init: RequestInit & { ua?: string; html?: boolean } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("x-forwarded-for", ip);
    headers.set("user-agent", init.ua ?? FIREFOX);
    headers.set("accept", init.html === false ? "application/json" : "text/html");
    const res = await fetch(`${base}${path}`, { ...init, headers, redirect: "manual" });
    await h.runtime.settle();
    return res;
  }
  const download = async (ip: string, path: string, init: Parameters<typeof from>[2] = {}) => {
    const res = await from(ip, path, init);
    const text = await res.text();
    return { status: res.status, text, res };
  };

  const signals = (entitlementId?: string) => {
    let q = db(h.ctx).selectFrom("sharing_signals").selectAll();
    if (entitlementId) q = q.where("entitlement_id", "=", entitlementId);
    return q.execute();
  };
  const alerts = async () =>
    (await readOutbox(h.deps.db, { to: "owner@shop.test", limit: 100 })).filter((m) =>
      m.subject.includes("Possibly shared"),
    );
  const setSharing = async (fields: Record<string, string>) => {
    const res = await h.request("/admin/settings/sharing", {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(fields).toString(),
    });
    return res;
  };

  /** A buyer with a one-file product and a link to it. */
  async function buyerWithLink(email: string, content = "the files of the kit") {
    const { product, asset } = await h.ownedProduct(email, content);
    const { token } = await h.token({ email, product: product.slug, expiresIn: "7d" });
    const entitlement = await db(h.ctx)
      .selectFrom("entitlements")
      .select("id")
      .where("email", "=", email)
      .executeTakeFirstOrThrow();
    return { product, asset, path: `/d/${token}/${asset.id}`, entitlementId: entitlement.id };
  }

  it("is off by default: downloads leave no evidence and are never asked about", async () => {
    const { path } = await buyerWithLink("off@example.com");
    for (const ip of ["198.51.100.1", "203.0.113.1", "192.0.2.1", "100.64.1.1"]) {
      expect((await download(ip, path)).status).toBe(200);
    }
    expect(await signals()).toEqual([]);
    const page = await h.admin("/admin/settings");
    expect(await page.text()).toContain("Sharing detection");
  });

  it("refuses settings it cannot use, with the reason", async () => {
    const res = await setSharing({ enabled: "on", networks: "0", devices: "2", windowHours: "24" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("must be at least 1");
  });

  it("flags a buyer past the threshold once, asks them to confirm by email, and lets them on", async () => {
    const saved = await setSharing({
      enabled: "on",
      networks: "2",
      devices: "3",
      windowHours: "24",
    });
    expect(saved.status).toBe(303);
    const { path, entitlementId } = await buyerWithLink("sharer@example.com");

    // Two networks (one of them twice, and a retry): within the threshold.
    expect((await download("198.51.100.7", path)).status).toBe(200);
    expect((await download("198.51.100.8", path)).status).toBe(200);
    expect((await download("203.0.113.9", path)).status).toBe(200);
    expect(await alerts()).toHaveLength(0);
    // The third network goes past: that download still goes through, the seller is alerted.
    expect((await download("192.0.2.44", path)).status).toBe(200);
    expect(await alerts()).toHaveLength(1);
    const [alert] = await alerts();
    expect(alert?.text).toContain("sharer@example.com");
    expect(alert?.text).toContain("/admin/sharing");

    // The next download asks: a page for people, saying why...
    const asked = await download("198.51.100.7", path);
    expect(asked.status).toBe(403);
    expect(asked.text).toMatch(/Confirm it(&#39;|')s you/);
    expect(asked.text).toContain("more networks or devices than usual");
    expect(asked.text).not.toContain("sharer@example.com");
    // ...and a code and the next step for programs.
    const api = await download("198.51.100.7", path, { html: false });
    expect(api.status).toBe(403);
    const body = JSON.parse(api.text);
    expect(body.code).toBe("confirm_required");
    expect(body.next.method).toBe("POST");
    expect(body.next.url).toMatch(/\/sharing\/confirm$/);
    // Asking again from more networks alerts nobody again (one alert per episode).
    await download("100.64.9.9", path);
    expect(await alerts()).toHaveLength(1);

    // The history says so.
    const history = await db(h.ctx)
      .selectFrom("access_events")
      .select(["change", "by"])
      .where("entitlement_id", "=", entitlementId)
      .execute();
    expect(history.map((e) => e.change)).toContain("sharing_flagged");

    // The seller's view shows the evidence: masked networks, device labels, counts.
    const view = await (await h.admin("/admin/sharing")).text();
    expect(view).toContain("sharer@example.com");
    expect(view).toContain("198.51.100.0/24");
    expect(view).toContain("203.0.113.0/24");
    expect(view).toContain("192.0.2.0/24");
    expect(view).not.toContain("198.51.100.7");
    expect(view).toContain("Firefox on Windows");
    expect(view).toContain("Clear the flag");
    const dashboard = await (await h.admin("/admin")).text();
    expect(dashboard).toContain("Possibly shared");
    expect(dashboard).toContain("/admin/sharing");

    // A program follows the next step: the link is mailed (JSON answer, address masked).
    const viaApi = await from("203.0.113.50", "/sharing/confirm", {
      method: "POST",
      html: false,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body.next.body),
    });
    expect(viaApi.status).toBe(202);
    expect(await viaApi.json()).toMatchObject({ status: "sent", email: "s…@example.com" });

    // The page's button: the link goes to the buyer's own address (never one typed in).
    const request = /name="request" value="([^"]+)"/.exec(asked.text)?.[1] as string;
    const next = /name="next" value="([^"]+)"/.exec(asked.text)?.[1] as string;
    expect(next).toBe(path);
    const sent = await download("203.0.113.50", "/sharing/confirm", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ request, next, email: "thief@example.com" }).toString(),
    });
    expect(sent.status).toBe(202);
    expect(sent.text).toContain("s…@example.com");
    expect(await readOutbox(h.deps.db, { to: "thief@example.com", limit: 5 })).toHaveLength(0);
    const mail = await h.lastMailTo("sharer@example.com");
    expect(mail.subject).toContain("Confirm it's you");
    const link = /\/sharing\/confirm\?token=[\w-]+&next=[^\s"]+/.exec(mail.text)?.[0] as string;
    expect(link).toBeTruthy();

    // One click: the flag is cleared and the download goes on.
    const confirmed = await from("203.0.113.50", link);
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("location")).toBe(path);
    expect((await download("203.0.113.50", path)).status).toBe(200);
    // Once only.
    expect((await from("203.0.113.50", link)).status).toBe(410);
    // The window's evidence started over: one new network is within the threshold again.
    expect((await download("100.64.1.2", path)).status).toBe(200);
    expect((await download("198.51.100.7", path)).status).toBe(200);
    const history2 = await db(h.ctx)
      .selectFrom("access_events")
      .select("change")
      .where("entitlement_id", "=", entitlementId)
      .execute();
    expect(history2.map((e) => e.change)).toContain("sharing_cleared");
    const cleared = await (await h.admin("/admin/sharing")).text();
    expect(cleared).toContain("cleared by the buyer");
  });

  it("counts devices too, and the seller can clear a flag", async () => {
    const { path, entitlementId } = await buyerWithLink("devices@example.com");
    // A fourth device goes past 3; the download after it asks.
    const agents = [FIREFOX, SAFARI, "curl/8.5.0", "Wget/1.21"];
    for (const ua of agents) {
      expect((await download("198.51.100.20", path, { ua })).status).toBe(200);
    }
    expect((await download("198.51.100.20", path)).status).toBe(403);
    const cleared = await h.admin(`/admin/sharing/${entitlementId}/clear`, { method: "POST" });
    expect(cleared.status).toBe(303);
    expect((await download("198.51.100.20", path)).status).toBe(200);
  });

  it("counts a download resumed in ranges from other networks once", async () => {
    const content = "x".repeat(100_000);
    const { path, entitlementId } = await buyerWithLink("ranges@example.com", content);
    const first = await download("198.51.100.30", path, { headers: { range: "bytes=0-9999" } });
    expect(first.status).toBe(206);
    // The rest of the same download, from a phone's changing networks: no new evidence.
    for (const [i, ip] of ["203.0.113.31", "192.0.2.32", "100.64.0.33"].entries()) {
      const start = 10_000 * (i + 1);
      const part = await download(ip, path, {
        headers: { range: `bytes=${start}-${start + 9999}` },
      });
      expect(part.status).toBe(206);
    }
    const rows = await signals(entitlementId);
    expect(rows.map((r) => r.network)).toEqual(["198.51.100.0/24"]);
    expect(Number(rows[0]?.downloads)).toBe(1);
    expect((await download("198.51.100.30", path)).status).toBe(200);
  });

  it("flags and alerts once when downloads past the threshold arrive together", async () => {
    const { path } = await buyerWithLink("burst@example.com");
    const before = (await alerts()).length;
    const ips = Array.from({ length: 8 }, (_, i) => `10.${i}.1.1`);
    await Promise.all(ips.map((ip) => download(ip, path)));
    expect((await alerts()).length).toBe(before + 1);
    const flags = await db(h.ctx)
      .selectFrom("sharing_flags as f")
      .innerJoin("entitlements as e", "e.id", "f.entitlement_id")
      .select("f.id")
      .where("e.email", "=", "burst@example.com")
      .execute();
    expect(flags).toHaveLength(1);
  });

  it("rate limits confirmation requests per client", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await from("198.51.100.99", "/sharing/confirm", {
        method: "POST",
        html: false,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ request: "not-a-request" }),
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // Another client is not held back by it.
    const other = await from("203.0.113.99", "/sharing/confirm", {
      method: "POST",
      html: false,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request: "not-a-request" }),
    });
    expect(other.status).toBe(400);
  });

  it("turned off again, stops asking and recording", async () => {
    const { path } = await buyerWithLink("later@example.com");
    for (const ip of ["198.51.100.60", "203.0.113.60", "192.0.2.60"])
      expect((await download(ip, path)).status).toBe(200);
    expect((await download("100.64.0.60", path)).status).toBe(403);
    await setSharing({ networks: "2", devices: "3", windowHours: "24" });
    const count = (await signals()).length;
    expect((await download("100.64.0.61", path)).status).toBe(200);
    expect((await signals()).length).toBe(count);
  });
});
