import type { LookupAddress } from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressCheckedFetch } from "../../src/adapters/fetch-node/index.ts";
import { isPrivateHost } from "../../src/core/webhooks/addresses.ts";
import { webhookReceiver } from "../support/webhookReceiver.ts";

/** A resolver that answers, call after call, the addresses given. */
function dnsAnswering(...answers: string[][]) {
  const asked: string[] = [];
  const lookup = (
    hostname: string,
    _options: { all: true },
    callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
  ) => {
    asked.push(hostname);
    const next = answers[Math.min(asked.length - 1, answers.length - 1)] ?? [];
    callback(
      null,
      next.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
    );
  };
  return { lookup, asked };
}

const refusePrivate = (address: string) =>
  isPrivateHost(address) ? `The host resolves to ${address}, a private address.` : null;

describe("the webhook fetch on Node", () => {
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let port: string;
  beforeAll(async () => {
    receiver = await webhookReceiver();
    port = new URL(receiver.url("/")).port;
  });
  afterAll(() => receiver?.close());

  it("connects to the address its own lookup answered", async () => {
    const dns = dnsAnswering(["127.0.0.1"]);
    const post = addressCheckedFetch({ refuse: () => null, lookup: dns.lookup });
    const res = await post(`http://hooks.example.test:${port}/pinned`, {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(dns.asked).toEqual(["hooks.example.test"]);
    expect(receiver.at("/pinned")).toHaveLength(1);
  });

  it("refuses a private address in the lookup the connection itself uses (no DNS rebinding window)", async () => {
    const dns = dnsAnswering(["127.0.0.1"]);
    const post = addressCheckedFetch({ refuse: refusePrivate, lookup: dns.lookup });
    const failure = await post(`http://rebind.example.test:${port}/rebound`, {
      method: "POST",
      body: "{}",
    }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).cause)).toContain(
      "The host resolves to 127.0.0.1, a private address.",
    );
    expect(receiver.at("/rebound")).toHaveLength(0);
  });

  it("refuses a name with any private address among its answers", async () => {
    const dns = dnsAnswering(["93.184.215.14", "10.0.0.7"]);
    const post = addressCheckedFetch({ refuse: refusePrivate, lookup: dns.lookup });
    const failure = await post("http://mixed.example.test/hook").catch((error: Error) => error);
    expect(String((failure as Error).cause)).toContain("resolves to 10.0.0.7");
  });
});
