import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { isFromThisMachine, nodeClientAddress } from "../../src/runtime/clientAddress.ts";

/** The client address as a real Node server sees it, for a TRUST_PROXY setting. */
describe("the client's address on Node", () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  async function addressSeen(trustProxy: string, headers: Record<string, string>) {
    const { trustProxy: trust } = parseConfig(trustProxy ? { TRUST_PROXY: trustProxy } : {});
    const clientIp = nodeClientAddress(trust);
    const app = new Hono().get("/", (c) =>
      c.json({ ip: clientIp(c), local: isFromThisMachine(c) }),
    );
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    close = () => server.close();
    await new Promise((r) => server.once("listening", r));
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers });
    return (await res.json()) as { ip: string; local: boolean };
  }

  it("is the socket's peer when no proxy is trusted, whatever the headers say", async () => {
    expect(await addressSeen("", { "x-forwarded-for": "203.0.113.7" })).toEqual({
      ip: "127.0.0.1",
      local: false,
    });
    expect(await addressSeen("", {})).toEqual({ ip: "127.0.0.1", local: true });
  });

  it("is the address the trusted hops name", async () => {
    const chain = { "x-forwarded-for": "198.51.100.1, 203.0.113.7" };
    expect((await addressSeen("1", chain)).ip).toBe("203.0.113.7");
    expect((await addressSeen("2", chain)).ip).toBe("198.51.100.1");
    // Trusting more hops than there are stops at the furthest address named.
    expect((await addressSeen("5", chain)).ip).toBe("198.51.100.1");
  });

  it("skips only the trusted proxies' addresses", async () => {
    const chain = { "x-forwarded-for": "198.51.100.1, 10.1.2.3" };
    expect((await addressSeen("loopback, 10.0.0.0/8", chain)).ip).toBe("198.51.100.1");
    expect((await addressSeen("loopback", chain)).ip).toBe("10.1.2.3");
    expect((await addressSeen("192.168.0.1", chain)).ip).toBe("127.0.0.1");
  });
});
