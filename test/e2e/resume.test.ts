import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../support/harness.ts";
import { type RunningServer, startServer } from "../support/server.ts";
import { type ShopClient, shopClient } from "../support/shop-client.ts";

const MiB = 1024 * 1024;

/** Reads `wanted` bytes of a download over a real socket, then drops the connection. */
function readThenDrop(url: string, wanted: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const req = request(url, (res) => {
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        if (got >= wanted) {
          req.destroy();
          resolve(Buffer.concat(chunks));
        }
      });
      res.on("end", () => reject(new Error("the whole file arrived before the drop")));
    });
    req.on("error", (error) => {
      if (got < wanted) reject(error);
    });
    req.end();
  });
}

/**
 * Issue 12, item 2, over a real network connection: the server counts bytes as sent once the
 * socket takes them, so a dropped download has bytes in flight that never arrived. A real resume
 * of a 1-use link must still work, and the file must not come out twice.
 */
describe("a 1-use link's download that drops over a real connection", () => {
  let shop: RunningServer;
  let client: ShopClient;
  beforeAll(async () => {
    shop = await startServer([], { ADMIN_TOKEN, DELIVERY_MODE: "proxy" });
    client = shopClient(shop.url, ADMIN_TOKEN);
  });
  afterAll(() => shop?.stop());

  it("resumes from where the bytes stopped arriving, once, and no further copy is handed out", async () => {
    const file = Buffer.alloc(24 * MiB);
    for (let i = 0; i < file.length; i += 4) file.writeUInt32BE(i, i);
    await client.createProduct("big-kit");
    const asset = await client.upload("big-kit", "big.zip", new Uint8Array(file));
    await client.grant("resumer@example.com", "big-kit");
    const { url } = await client.token({
      email: "resumer@example.com",
      product: "big-kit",
      maxUses: 1,
    });
    const fileUrl = `${url}/${asset.id}`;

    const head = await readThenDrop(fileUrl, 3 * MiB);
    const from = head.length;

    // The server learns of the drop a moment later; a download manager retries after a pause.
    let resumed: Response | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      resumed = await fetch(fileUrl, { headers: { range: `bytes=${from}-` } });
      if (resumed.status === 206) break;
      await resumed.arrayBuffer();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(resumed?.status).toBe(206);
    const rest = Buffer.from(await (resumed as Response).arrayBuffer());
    expect(Buffer.concat([head, rest]).equals(file)).toBe(true);

    // The use is spent: neither the whole file nor its first half comes out again.
    expect((await fetch(fileUrl)).status).toBe(410);
    const again = await fetch(fileUrl, { headers: { range: `bytes=${12 * MiB}-` } });
    expect(again.status).toBe(410);
  });
});
