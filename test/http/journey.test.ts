import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

const sha256 = (bytes: ArrayBuffer) =>
  createHash("sha256").update(new Uint8Array(bytes)).digest("hex");

describe.each(dialects)("the seller-to-buyer journey on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("a granted buyer signs in, sees the product in the library and downloads the exact bytes", async () => {
    const product = await h.createProduct({ name: "Pro Kit" });
    const content = "the real file contents ".repeat(1000);
    const asset = await h.upload(product.slug, "pro-kit.zip", content);
    expect(asset.sha256).toBe(createHash("sha256").update(content).digest("hex"));
    await h.grant("Buyer@Example.com", product.slug);

    const cookie = await h.signIn("buyer@example.com");
    const library = await (await h.request("/api/library", { cookie })).json();
    expect(library.items).toEqual([
      {
        product: { slug: product.slug, name: "Pro Kit" },
        accessEndsAt: null,
        license: null,
        files: [
          expect.objectContaining({ id: asset.id, filename: "pro-kit.zip", size: content.length }),
        ],
        releases: null,
      },
    ]);

    const download = await h.request(library.items[0].files[0].downloadUrl, { cookie });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toContain("filename*=UTF-8''pro-kit.zip");
    expect(download.headers.get("content-length")).toBe(String(content.length));
    expect(sha256(await download.arrayBuffer())).toBe(asset.sha256);

    const log = await (await h.admin("/api/admin/downloads")).json();
    expect(log.downloads).toEqual([
      expect.objectContaining({ assetId: asset.id, email: "buyer@example.com", via: "library" }),
    ]);
  });

  it("another signed-in user is refused without learning whether the file exists", async () => {
    const { product, asset } = await h.ownedProduct("owner1@example.com");
    const cookie = await h.signIn("stranger@example.com");
    const real = await h.request(`/download/${product.slug}/${asset.id}`, { cookie });
    const fake = await h.request(`/download/${product.slug}/ast_doesnotexist`, { cookie });
    expect(real.status).toBe(403);
    expect(fake.status).toBe(403);
    expect(await real.json()).toMatchObject({
      code: "forbidden",
      message: "You have not purchased this product.",
    });
    expect((await fake.json()).message).toBe("You have not purchased this product.");
  });

  it("a delivery token link works until it runs out of uses", async () => {
    const { product, asset } = await h.ownedProduct("tokens@example.com", "token bytes");
    const { url, token } = await h.token({
      email: "tokens@example.com",
      product: product.slug,
      maxUses: 2,
    });
    expect(url).toBe(`http://shop.test/d/${token}`);
    const page = await h.request(`/d/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await page.text()).toContain("kit.zip");

    for (let i = 0; i < 2; i++) {
      const res = await h.request(`/d/${token}/${asset.id}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("token bytes");
    }
    const third = await h.request(`/d/${token}/${asset.id}`);
    expect(third.status).toBe(410);
    expect((await third.json()).message).toMatch(/used as many times/);
  });
});
