import { existsSync, readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage } from "../support/stripe.ts";

/** 100 distinct bytes, so any wrong offset shows. */
const BYTES = Uint8Array.from({ length: 100 }, (_, i) => i + 100);
const slice = (start: number, end: number) => Array.from(BYTES.slice(start, end));
const bytesOf = async (res: Response) => Array.from(new Uint8Array(await res.arrayBuffer()));

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/** The name a browser saves: the RFC 8187 `filename*` of a Content-Disposition, decoded. */
function savedName(header: string): string {
  const encoded = /; filename\*=UTF-8''([^;\s]+)$/.exec(header)?.[1];
  if (encoded === undefined) throw new Error(`no filename* in ${JSON.stringify(header)}`);
  return decodeURIComponent(encoded);
}

/** A well-formed `attachment` header: printable ASCII fallback without quotes, attr-chars only. */
const WELL_FORMED =
  /^attachment; filename="[\x20\x21\x23-\x5b\x5d-\x7e]+"; filename\*=UTF-8''(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+$/;

async function downloadLog(h: Harness, email: string) {
  const res = await h.admin(`/api/admin/downloads?email=${encodeURIComponent(email)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { downloads: { assetId: string; via: string }[] }).downloads;
}

/** A buyer who owns a product with one 100-byte file, signed in. */
async function signedInOwner(h: Harness, label: string, filename = "kit.bin") {
  const email = uniqueEmail(label);
  const product = await h.createProduct();
  const asset = await h.upload(product.slug, filename, BYTES, "application/octet-stream");
  const entitlement = await h.grant(email, product.slug);
  const cookie = await h.signIn(email);
  return {
    email,
    product,
    asset,
    entitlement,
    cookie,
    path: `/download/${product.slug}/${asset.id}`,
  };
}

describe.each(dialects)("signed-in downloads, proxy mode, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  it("streams the whole file with Content-Length, Content-Type and Content-Disposition", async () => {
    const email = uniqueEmail("proxy");
    const product = await h.createProduct();
    const asset = await h.upload(product.slug, "Guide.pdf", BYTES);
    await h.grant(email, product.slug);
    const cookie = await h.signIn(email);

    const res = await h.request(`/download/${product.slug}/${asset.id}`, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("100");
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="Guide.pdf"; filename*=UTF-8''Guide.pdf`,
    );
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(await bytesOf(res)).toEqual(slice(0, 100));
  });

  it.each([
    ['say "hello" to; everyone.pdf', 'say "hello" to; everyone.pdf'],
    ["evil\r\nSet-Cookie: stolen=1\r\n.txt", "evilSet-Cookie: stolen=1.txt"],
    ["split\rheader\nname\u2028here.txt", "splitheadernamehere.txt"],
    ["literal %0D%0A and ; and ' and (x) *.zip", "literal %0D%0A and ; and ' and (x) *.zip"],
    ["résumé – 日本語 😀.pdf", "résumé – 日本語 😀.pdf"],
    ["..\\..\\windows.ini", "windows.ini"],
  ])("the file name %j is sent safely and saved as %j", async (uploaded, expected) => {
    const email = uniqueEmail("names");
    const product = await h.createProduct();
    const asset = await h.upload(product.slug, uploaded, BYTES);
    expect(asset.filename).toBe(expected);
    await h.grant(email, product.slug);
    const cookie = await h.signIn(email);

    const res = await h.request(`/download/${product.slug}/${asset.id}`, { cookie });
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(slice(0, 100));
    expect(res.headers.get("set-cookie")).toBeNull();
    const header = res.headers.get("content-disposition") ?? "";
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toMatch(WELL_FORMED);
    expect(savedName(header)).toBe(asset.filename);
  });

  it("answers byte ranges with 206, Content-Range and exactly those bytes", async () => {
    const { path, cookie } = await signedInOwner(h, "ranges");
    const cases: [string, number, number, string][] = [
      ["bytes=0-9", 0, 10, "bytes 0-9/100"],
      ["bytes=-5", 95, 100, "bytes 95-99/100"],
      ["bytes=10-", 10, 100, "bytes 10-99/100"],
      ["bytes=90-500", 90, 100, "bytes 90-99/100"],
    ];
    for (const [range, start, end, contentRange] of cases) {
      const res = await h.request(path, { cookie, headers: { range } });
      expect({ range, status: res.status }).toEqual({ range, status: 206 });
      expect(res.headers.get("content-range")).toBe(contentRange);
      expect(res.headers.get("content-length")).toBe(String(end - start));
      expect(await bytesOf(res)).toEqual(slice(start, end));
    }
  });

  it("a range past the end is 416 with Content-Range: bytes */size", async () => {
    const { path, cookie, email } = await signedInOwner(h, "416");
    const res = await h.request(path, { cookie, headers: { range: "bytes=999999-" } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */100");
    expect(await res.arrayBuffer()).toHaveProperty("byteLength", 0);
    expect(await downloadLog(h, email)).toHaveLength(0);
  });

  it("logs each download once, and not again for a range that continues it", async () => {
    const { path, cookie, email, asset } = await signedInOwner(h, "logged");
    expect(await downloadLog(h, email)).toHaveLength(0);

    const full = await h.request(path, { cookie, headers: { "user-agent": "TestAgent/1.0" } });
    expect(await bytesOf(full)).toEqual(slice(0, 100));
    const afterFull = await downloadLog(h, email);
    expect(afterFull).toEqual([
      expect.objectContaining({ assetId: asset.id, via: "library", userAgent: "TestAgent/1.0" }),
    ]);

    const part = await h.request(path, { cookie, headers: { range: "bytes=0-49" } });
    expect(await bytesOf(part)).toEqual(slice(0, 50));
    expect(await downloadLog(h, email)).toHaveLength(2);
    for (const [range, start, end] of [
      ["bytes=50-79", 50, 80],
      ["bytes=-20", 80, 100],
    ] as const) {
      const more = await h.request(path, { cookie, headers: { range } });
      expect(more.status).toBe(206);
      expect(await bytesOf(more)).toEqual(slice(start, end));
    }
    expect(await downloadLog(h, email)).toHaveLength(2);

    const restart = await h.request(path, { cookie, headers: { range: "bytes=0-9" } });
    expect(restart.status).toBe(206);
    await restart.arrayBuffer();
    const second = await h.request(path, { cookie });
    await second.arrayBuffer();
    expect(await downloadLog(h, email)).toHaveLength(4);
  });

  it("a ranged download that starts mid-file is logged once, not never", async () => {
    const { path, cookie, email, asset } = await signedInOwner(h, "mid-file");

    const first = await h.request(path, { cookie, headers: { range: "bytes=40-69" } });
    expect(first.status).toBe(206);
    expect(await bytesOf(first)).toEqual(slice(40, 70));
    expect(await downloadLog(h, email)).toEqual([
      expect.objectContaining({ assetId: asset.id, via: "library" }),
    ]);
    const rest = await h.request(path, { cookie, headers: { range: "bytes=70-" } });
    expect(await bytesOf(rest)).toEqual(slice(70, 100));
    expect(await downloadLog(h, email)).toHaveLength(1);

    // The first download has served 60 bytes: 41 more are another download, logged as one.
    const again = await h.request(path, { cookie, headers: { range: "bytes=59-" } });
    expect(await bytesOf(again)).toEqual(slice(59, 100));
    expect(await downloadLog(h, email)).toHaveLength(2);
  });

  it("a HEAD request describes the file and logs nothing", async () => {
    const { path, cookie, email } = await signedInOwner(h, "head");
    const head = await h.request(path, { cookie, method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("100");
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    expect(await head.text()).toBe("");
    expect(await downloadLog(h, email)).toHaveLength(0);
    expect((await h.request(path, { method: "HEAD" })).status).toBe(401);
  });

  it("refuses a visitor who is not signed in with 401", async () => {
    const { path, email } = await signedInOwner(h, "anon");
    const res = await h.request(path);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      code: "unauthenticated",
      message: expect.any(String),
    });
    expect(await downloadLog(h, email)).toHaveLength(0);
  });

  it("refuses a signed-in user without a purchase with 403, the same whether the file exists or not", async () => {
    const { product, asset } = await signedInOwner(h, "owner");
    const other = await signedInOwner(h, "other-product");
    const cookie = await h.signIn(uniqueEmail("stranger"));
    const answers = [];
    for (const assetId of [asset.id, "ast_doesnotexist", other.asset.id]) {
      const res = await h.request(`/download/${product.slug}/${assetId}`, { cookie });
      answers.push({ status: res.status, ...((await res.json()) as object), requestId: "" });
    }
    expect(answers[0]).toEqual({
      status: 403,
      code: "forbidden",
      message: "You have not purchased this product.",
      requestId: "",
    });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
  });

  it("an unknown product is 404 and an unknown file of an owned product is 404", async () => {
    const { cookie, product } = await signedInOwner(h, "unknown");
    const noProduct = await h.request("/download/no-such-product/ast_x", { cookie });
    expect(noProduct.status).toBe(404);
    expect(await noProduct.json()).toMatchObject({ code: "not_found" });
    const noFile = await h.request(`/download/${product.slug}/ast_doesnotexist`, { cookie });
    expect(noFile.status).toBe(404);
    expect(await noFile.json()).toMatchObject({
      code: "not_found",
      message: "There is no such file.",
    });
  });

  it("a retired file is 410", async () => {
    const { cookie, path, asset, email } = await signedInOwner(h, "retired");
    const retired = await h.admin(`/api/admin/assets/${asset.id}`, {
      method: "PATCH",
      json: { active: false },
    });
    expect(retired.status).toBe(200);
    const res = await h.request(path, { cookie });
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ code: "gone", message: /retired/ });
    expect(await downloadLog(h, email)).toHaveLength(0);
  });

  it.each([
    ["refunded", /refunded/],
    [undefined, /revoked/],
  ])("revoked access (reason %s) is 403 with a message saying why", async (reason, why) => {
    const { cookie, path, entitlement } = await signedInOwner(h, "revoked");
    const before = await h.request(path, { cookie });
    expect(before.status).toBe(200);
    await before.arrayBuffer();

    const revoked = await h.admin(`/api/admin/entitlements/${entitlement.id}/revoke`, {
      method: "POST",
      json: reason ? { reason } : {},
    });
    expect(revoked.status).toBe(200);

    const res = await h.request(path, { cookie });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("forbidden");
    expect(body.message).toMatch(why);
    expect(body.message).not.toBe("You have not purchased this product.");
  });
});

describe.each(dialects)("signed-in downloads, redirect mode, on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, { DELIVERY_MODE: "redirect" });
  });
  afterAll(() => h.close());

  /** A fresh signed URL for an owned file named `filename`. */
  async function signedUrl(filename = "kit.bin") {
    const owner = await signedInOwner(h, "redirect", filename);
    const res = await h.request(owner.path, { cookie: owner.cookie });
    expect(res.status).toBe(302);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const location = res.headers.get("location") ?? "";
    return { ...owner, location, url: new URL(location) };
  }

  /** GET a URL, reading the whole body. */
  async function fetchAll(url: string, headers: Record<string, string> = {}) {
    const res = await h.request(url, { headers });
    return { res, status: res.status, bytes: await bytesOf(res) };
  }

  it("redirects to a signed URL on this site that serves the bytes under the file's name", async () => {
    const name = 'Ünïcode "notes" & more.pdf';
    const { location, url, asset, email } = await signedUrl(name);
    expect(location).toMatch(
      /^http:\/\/shop\.test\/files\/products\/[\w-]+\/[\w-]+\?.*&sig=[\w-]+$/,
    );
    expect([...url.searchParams.keys()].sort()).toEqual(["ct", "exp", "fn", "sig"]);
    expect(url.searchParams.get("fn")).toBe(name);

    const { res, status, bytes } = await fetchAll(location);
    expect(status).toBe(200);
    expect(bytes).toEqual(slice(0, 100));
    expect(res.headers.get("content-length")).toBe("100");
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const header = res.headers.get("content-disposition") ?? "";
    expect(header).toMatch(WELL_FORMED);
    expect(savedName(header)).toBe(name);
    expect(savedName(header)).toBe(asset.filename);

    const part = await fetchAll(location, { range: "bytes=0-9" });
    expect(part.status).toBe(206);
    expect(part.res.headers.get("content-range")).toBe("bytes 0-9/100");
    expect(part.bytes).toEqual(slice(0, 10));

    expect(await downloadLog(h, email)).toHaveLength(1);
  });

  it("any change to the signed URL is 403", async () => {
    const { location, url } = await signedUrl();
    const changed = (param: string, value: string | null) => {
      const u = new URL(url);
      if (value === null) u.searchParams.delete(param);
      else u.searchParams.set(param, value);
      return u.toString();
    };
    const sig = url.searchParams.get("sig") ?? "";
    const path = url.pathname;
    const lastChar = path.at(-1) === "A" ? "B" : "A";
    const variants = [
      changed("exp", String(Number(url.searchParams.get("exp")) + 1)),
      changed("exp", "99999999999"),
      changed("fn", "other.bin"),
      changed("ct", "text/html"),
      changed("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1)),
      changed("sig", sig.slice(0, -1)),
      changed("sig", null),
      changed("exp", null),
      changed("fn", null),
      changed("ct", null),
      location.replace(path, path.slice(0, -1) + lastChar),
      location.replace(path, path.replace("/files/products/", "/files/products/x")),
      location.replace(path, `${path}x`),
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(location);
      const { res, status, bytes } = await fetchAll(variant);
      expect({ variant, status }).toEqual({ variant, status: 403 });
      expect(res.headers.get("content-disposition")).toBeNull();
      expect(bytes).not.toEqual(slice(0, 100));
    }
    // The unchanged URL still works, so each 403 came from the change.
    expect((await fetchAll(location)).status).toBe(200);
  });

  it("a HEAD on the signed URL answers its headers and leaves no file open", async () => {
    const { location } = await signedUrl();
    // Linux shows the process's open files; elsewhere only the answers are checked.
    const openFiles = () => (existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : 0);
    const before = openFiles();
    for (let i = 0; i < 20; i++) {
      const head = await h.request(location, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe("100");
      expect(await head.text()).toBe("");
    }
    expect(openFiles() - before).toBeLessThan(5);
    expect((await fetchAll(location)).bytes).toEqual(slice(0, 100));
  });

  it("the signed URL stops working after DOWNLOAD_URL_TTL", async () => {
    const ttl = h.config.delivery.urlTtlSeconds;
    expect(ttl).toBe(300);
    const { location } = await signedUrl();
    h.clock.advance((ttl - 2) * 1000);
    expect((await fetchAll(location)).status).toBe(200);
    h.clock.advance(3000);
    const late = await fetchAll(location);
    expect(late.status).toBe(403);
    expect(JSON.parse(new TextDecoder().decode(Uint8Array.from(late.bytes)))).toMatchObject({
      code: "forbidden",
      message: /expired or is not valid/,
    });
  });

  it("path tricks never serve a file and never fail with 500", async () => {
    const { url } = await signedUrl();
    const query = url.search;
    const [, , , productId, assetId] = url.pathname.split("/");
    const tricks = [
      "/files/../../etc/passwd",
      "/files/..%2f..%2fetc%2fpasswd",
      "/files/%2e%2e/%2e%2e/etc/passwd",
      "/files/products/%2e%2e/x",
      "/files/products/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/files/%252e%252e/%252e%252e/etc/passwd",
      `/files/products%2F${productId}%2F${assetId}`,
      `/files/products/${productId}%2F${assetId}`,
      `/files/products/${productId}%5C${assetId}`,
      `/files/products/${productId}/${assetId}%00`,
      `/files/products/${productId}/${assetId}.partial-000000000000`,
      "/files//etc/passwd",
      "/files/",
      "/files",
      `/files/products/${productId}`,
    ];
    for (const trick of tricks) {
      for (const suffix of ["", query]) {
        const { res, status, bytes } = await fetchAll(trick + suffix);
        const refused = [400, 403, 404].includes(status);
        expect({ trick, suffix, status, refused }).toEqual({
          trick,
          suffix,
          status,
          refused: true,
        });
        expect(res.headers.get("content-disposition")).toBeNull();
        expect(new TextDecoder().decode(Uint8Array.from(bytes))).not.toContain("root:");
      }
    }
  });

  it("a signed-in download in redirect mode with a Range header is still logged", async () => {
    const owner = await signedInOwner(h, "redirect-range");
    for (const range of [undefined, "bytes=50-"]) {
      const res = await h.request(owner.path, {
        cookie: owner.cookie,
        ...(range ? { headers: { range } } : {}),
      });
      expect(res.status).toBe(302);
    }
    expect(await downloadLog(h, owner.email)).toHaveLength(2);
  });
});

describe.each(dialects)("checkout-link downloads on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    // "manual": no webhooks; the buyer's own confirmation marks the order paid.
    h = await makeHarness(dialect, {}, { stripe: "manual" });
  });
  afterAll(() => h.close());

  it("a guest's ranged download through the checkout link is logged once, not per range", async () => {
    const product = await h.createProduct();
    const asset = await h.upload(product.slug, "kit.bin", BYTES, "application/octet-stream");
    const started = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const { url, sessionId } = (await started.json()) as { url: string; sessionId: string };
    const email = uniqueEmail("guest");
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    const synced = await h.request("/api/checkout/sync", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionId }),
    });
    expect(await synced.json()).toMatchObject({ status: "paid" });
    const path = `/checkout/download/${asset.id}?session_id=${sessionId}`;

    const tail = await h.request(path, { headers: { range: "bytes=60-" } });
    expect(tail.status).toBe(206);
    expect(await bytesOf(tail)).toEqual(slice(60, 100));
    expect(await downloadLog(h, email)).toEqual([expect.objectContaining({ assetId: asset.id })]);
    const head = await h.request(path, { headers: { range: "bytes=30-59" } });
    expect(await bytesOf(head)).toEqual(slice(30, 60));
    expect(await downloadLog(h, email)).toHaveLength(1);

    const whole = await h.request(path);
    expect(await bytesOf(whole)).toEqual(slice(0, 100));
    expect(await downloadLog(h, email)).toHaveLength(2);
  });
});
