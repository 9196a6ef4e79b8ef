import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

/** A real 1x1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
/** The first bytes of a GIF, a JPEG and a WebP: what the type is told by. */
const GIF = Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(20, 1)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(20, 2)]);
const WEBP = Buffer.concat([
  Buffer.from("RIFF"),
  Buffer.from([20, 0, 0, 0]),
  Buffer.from("WEBPVP8 "),
  Buffer.alloc(12, 3),
]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const html = { accept: "text/html" };

/** Issue 16, point 9: a product's cover image, and the public image route that serves it. */
describe.each(dialects)("product covers on %s", (dialect) => {
  let h: Harness;
  let storageRoot: string;
  beforeAll(async () => {
    h = await makeHarness(dialect);
    const storage = h.config.storage;
    if (storage.kind !== "local") throw new Error("the harness stores files locally");
    storageRoot = storage.root;
  });
  afterAll(() => h.close());

  const putCover = (slug: string, bytes: Buffer, contentType = "image/png") =>
    h.admin(`/api/admin/products/${slug}/cover`, {
      method: "PUT",
      headers: { "content-type": contentType },
      body: new Blob([new Uint8Array(bytes)]),
    });
  const product = async (slug: string) =>
    (await (await h.admin(`/api/admin/products/${slug}`)).json()) as {
      coverUrl: string | null;
      updatedAt: string;
    };
  const images = () => {
    try {
      return readdirSync(join(storageRoot, "images")).sort();
    } catch {
      return [];
    }
  };

  it("takes a PNG, answers its public URL, and the image route serves it for good", async () => {
    const { slug } = await h.productOnSale({ name: "Cover Kit" });
    expect((await product(slug)).coverUrl).toBeNull();

    const res = await putCover(slug, PNG, "application/octet-stream");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { coverUrl: string };
    expect(body.coverUrl).toBe(`http://shop.test/images/${sha(PNG)}.png`);
    expect((await product(slug)).coverUrl).toBe(body.coverUrl);

    const image = await h.request(`/images/${sha(PNG)}.png`);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(image.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(image.headers.get("x-content-type-options")).toBe("nosniff");
    expect(image.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(image.headers.get("content-security-policy")).toContain("sandbox");
    expect(image.headers.get("content-length")).toBe(String(PNG.length));
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);

    // The same bytes again are the same image: one stored object.
    expect((await (await putCover(slug, PNG)).json()).coverUrl).toBe(body.coverUrl);
    expect(images()).toEqual([`${sha(PNG)}-png`]);

    // The store's card, the product page and the seller's editor show it, sized before it loads.
    const store = await (await h.request("/", { headers: html })).text();
    expect(store).toContain(`<img src="/images/${sha(PNG)}.png" alt="" class="cover card-cover"`);
    const page = await (await h.request(`/p/${slug}`, { headers: html })).text();
    expect(page).toMatch(
      new RegExp(
        `<img src="/images/${sha(PNG)}\\.png" alt="Cover Kit" class="cover" width="1600" height="900"`,
      ),
    );
  });

  it("tells the type by the bytes, whatever the client says: GIF, JPEG and WebP too", async () => {
    const { slug } = await h.createProduct();
    for (const [bytes, ext, type] of [
      [GIF, "gif", "image/gif"],
      [JPEG, "jpg", "image/jpeg"],
      [WEBP, "webp", "image/webp"],
    ] as const) {
      const res = await putCover(slug, bytes, "image/png");
      expect(res.status).toBe(200);
      expect((await res.json()).coverUrl).toBe(`http://shop.test/images/${sha(bytes)}.${ext}`);
      const image = await h.request(`/images/${sha(bytes)}.${ext}`);
      expect(image.headers.get("content-type")).toBe(type);
    }
  });

  it("refuses what is not a PNG, JPEG, WebP or GIF by its bytes, SVG, and a file past 2 MB, changing nothing", async () => {
    const { slug } = await h.createProduct();
    expect((await putCover(slug, PNG)).status).toBe(200);
    const before = await product(slug);
    const stored = images();

    const text = await putCover(slug, Buffer.from("just some text, called a png"), "image/png");
    expect(text.status).toBe(400);
    expect((await text.json()).message).toBe(
      "That file is not a PNG, JPEG, WebP or GIF image (SVG is not accepted). Choose a picture in one of those formats.",
    );

    const svg = await putCover(slug, SVG, "image/svg+xml");
    expect(svg.status).toBe(400);
    expect((await svg.json()).code).toBe("invalid_input");

    const big = Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024, 7)]);
    const tooBig = await putCover(slug, big);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).message).toMatch(/^The image is larger than 2 MB\./);

    // Without a Content-Length the bytes are counted as they come, and refused the same.
    const streamed = await h.admin(`/api/admin/products/${slug}/cover`, {
      method: "PUT",
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 3; i++) controller.enqueue(new Uint8Array(1024 * 1024));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);

    const empty = await putCover(slug, Buffer.alloc(0));
    expect(empty.status).toBe(400);

    expect(await product(slug)).toEqual(before);
    expect(images()).toEqual(stored);
  });

  it("removes a cover; a seller's form sets and removes one, and says why a file is refused", async () => {
    const owner = await h.signIn("owner@shop.test");
    const { slug } = await h.productOnSale({ name: "Form Kit" });
    const send = (bytes: Buffer, name: string, type: string) => {
      const form = new FormData();
      form.set("cover", new File([new Uint8Array(bytes)], name, { type }));
      return h.request(`/admin/products/${slug}/cover`, {
        method: "POST",
        cookie: owner,
        headers: { ...html, origin: "http://shop.test" },
        body: form,
      });
    };
    const saved = await send(GIF, "cover.gif", "image/gif");
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`/admin/products/${slug}?done=cover-saved`);
    const editor = await (
      await h.request(`/admin/products/${slug}?done=cover-saved`, { headers: html, cookie: owner })
    ).text();
    expect(editor).toContain("Cover saved");
    expect(editor).toContain(`src="/images/${sha(GIF)}.gif"`);
    expect(editor).toContain("Remove cover");

    const refused = await send(SVG, "cover.png", "image/png");
    expect(refused.status).toBe(400);
    const page = await refused.text();
    expect(page).toContain("That file is not a PNG, JPEG, WebP or GIF image");
    expect(page).toContain(`src="/images/${sha(GIF)}.gif"`);

    const removed = await h.request(`/admin/products/${slug}/cover/remove`, {
      method: "POST",
      cookie: owner,
      headers: { ...html, origin: "http://shop.test" },
    });
    expect(removed.headers.get("location")).toBe(`/admin/products/${slug}?done=cover-removed`);
    expect((await product(slug)).coverUrl).toBeNull();
    expect(await (await h.request(`/p/${slug}`, { headers: html })).text()).not.toContain(
      "/images/",
    );

    expect((await putCover(slug, PNG)).status).toBe(200);
    const api = await h.admin(`/api/admin/products/${slug}/cover`, { method: "DELETE" });
    expect(api.status).toBe(200);
    expect((await api.json()).coverUrl).toBeNull();
    // The image stays stored: the same bytes may be another product's cover.
    expect((await h.request(`/images/${sha(PNG)}.png`)).status).toBe(200);
  });

  it("answers an unknown image and a malformed id with the same 404", async () => {
    const answer = async (path: string) => {
      const res = await h.request(path, { headers: { accept: "application/json" } });
      const { code, message } = (await res.json()) as { code: string; message: string };
      return { status: res.status, code, message, cache: res.headers.get("cache-control") };
    };
    const unknown = await answer(`/images/${"0".repeat(64)}.png`);
    expect(unknown.status).toBe(404);
    expect(unknown.cache).toBeNull();
    for (const path of [
      "/images/cover.png",
      `/images/${"0".repeat(64)}.svg`,
      `/images/${"A".repeat(64)}.png`,
      "/images/..%2F..%2Fproducts%2Fx",
      `/images/${sha(PNG)}.png.bak`,
    ])
      expect(await answer(path)).toEqual(unknown);
  });

  it("limits how often one client asks for images", async () => {
    const { slug } = await h.createProduct();
    expect((await putCover(slug, JPEG)).status).toBe(200);
    const from = (address: string) =>
      h.runtime.app.request(
        `http://shop.test/images/${sha(JPEG)}.jpg`,
        {},
        { incoming: { socket: { remoteAddress: address } } },
      );
    let last = 0;
    for (let i = 0; i < 601; i++) last = (await from("192.0.2.7")).status;
    expect(last).toBe(429);
    expect((await from("192.0.2.8")).status).toBe(200);
  });

  it("describes the cover calls and coverUrl in the API reference", async () => {
    const doc = (await (await h.request("/api/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/api/admin/products/{slug}/cover"] ?? {}).sort()).toEqual([
      "delete",
      "put",
    ]);
    expect(doc.paths["/api/admin/products/{slug}/uploads/abort"]).toHaveProperty("post");
  });
});
