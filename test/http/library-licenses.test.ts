import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { grantAccess } from "../../src/core/access/entitlements.ts";
import { sendQueuedReceipts } from "../../src/core/orders/receipts.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { paidOrderWithQueuedReceipt } from "../support/receipts.ts";

const HTML = { accept: "text/html,application/xhtml+xml" };
const FORM = { "content-type": "application/x-www-form-urlencoded", origin: PUBLIC_URL };
const KEY = /^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/;
let n = 0;
const email = (label: string) => `${label}-${++n}-${Date.now()}@example.com`;

interface LibraryLicense {
  id: string;
  key: string;
  status: string;
  activationLimit: number | null;
  activations: { id: string; fingerprint: string; label: string | null; lastSeenAt: string }[];
}

/**
 * The buyer's side of licence keys (issue 15): the library shows each key with its standing and
 * the machines it is activated on, and frees one of them without asking the seller; the receipt
 * carries the key.
 */
describe.each(dialects)("licence keys in the library and the receipt on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect);
  });
  afterAll(() => h.close());

  /** The seller's app calling the public licence API. */
  const app = async (verb: string, body: unknown) => {
    const res = await h.request(`/api/v1/licenses/${verb}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const library = async (cookie: string, query = "") => {
    const res = await h.request(`/library${query}`, { cookie, headers: HTML });
    expect(res.status).toBe(200);
    return res.text();
  };
  const libraryJson = async (cookie: string) => {
    const res = await h.request("/api/library", { cookie });
    expect(res.status).toBe(200);
    return (await res.json()).items as {
      product: { slug: string };
      license: LibraryLicense | null;
    }[];
  };
  const free = (cookie: string, licenseId: string, activationId: string, headers = FORM) =>
    h.request(`/library/licenses/${licenseId}/activations/${activationId}/free`, {
      method: "POST",
      cookie,
      headers,
      body: "",
    });

  /** A product with licences on (limit 2) and one file, granted to a new buyer, signed in. */
  async function licensedPurchase(name = "Plugin") {
    const product = await h.createProduct({
      name,
      license: { enabled: true, activationLimit: 2 },
    });
    await h.upload(product.slug, "plugin.zip", "plugin bytes");
    const buyer = email("buyer");
    await h.grant(buyer, product.slug);
    const cookie = await h.signIn(buyer);
    const item = (await libraryJson(cookie)).find((i) => i.product.slug === product.slug);
    const license = item?.license;
    if (!license) throw new Error("no licence in the library");
    return { product, buyer, cookie, license };
  }

  it("shows the key and both machines; the buyer frees one, and the app is told at once", async () => {
    const { product, cookie, license } = await licensedPurchase("Render Plugin");
    expect(license).toMatchObject({ status: "active", activationLimit: 2, activations: [] });
    expect(license.key).toMatch(KEY);
    const { key } = license;

    for (const [fingerprint, label] of [
      ["fp-laptop-0001", "Ada's laptop"],
      ["fp-studio-0002", "Studio <Mac>"],
    ])
      expect((await app("activate", { key, fingerprint, label })).status).toBe(200);

    // The page: the key as plain text, "2 of 2", each machine with its times and a button.
    let page = await library(cookie);
    expect(page).toContain(`<code id="key-${license.id}">${key}</code>`);
    expect(page).toContain("Activated on 2 of 2 machines.");
    expect(page).toContain("Ada&#39;s laptop");
    expect(page).toContain("Studio &lt;Mac&gt;");
    expect(page).not.toContain("Studio <Mac>");
    expect(page).toContain("fp-laptop-0001");
    expect(page).toMatch(/Activated <time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/);
    expect(page).toContain('<script src="/assets/library.js" defer=""></script>');
    expect(page.match(/>Deactivate</g)).toHaveLength(2);
    expect(page).not.toContain("Machine deactivated");

    // The JSON: the same licence on its item, activations oldest first.
    const [item] = (await libraryJson(cookie)).filter((i) => i.product.slug === product.slug);
    expect(item?.license).toMatchObject({ id: license.id, key, status: "active" });
    expect(item?.license?.activations.map((a) => [a.fingerprint, a.label])).toEqual([
      ["fp-laptop-0001", "Ada's laptop"],
      ["fp-studio-0002", "Studio <Mac>"],
    ]);
    const [laptop, studio] = item?.license?.activations ?? [];
    if (!laptop || !studio) throw new Error("two activations expected");
    expect(page).toContain(
      `action="/library/licenses/${license.id}/activations/${laptop.id}/free"`,
    );

    // A third machine is over the limit until one is freed.
    expect((await app("activate", { key, fingerprint: "fp-new-0003" })).status).toBe(409);

    // The buyer frees the laptop through the page's form.
    const freed = await free(cookie, license.id, laptop.id);
    expect(freed.status).toBe(303);
    expect(freed.headers.get("location")).toBe("/library?freed=1#licences");
    page = await library(cookie, "?freed=1");
    expect(page).toContain('id="licences"');
    expect(page).toContain("Machine deactivated");
    expect(page).toContain("Activated on 1 of 2 machines.");
    expect(page).not.toContain("fp-laptop-0001");
    expect(page).toContain("fp-studio-0002");

    // The app hears it at once: the laptop is no longer activated, the studio still is.
    const laptopNow = await app("validate", { key, fingerprint: "fp-laptop-0001" });
    expect(laptopNow.body).toMatchObject({ valid: false, code: "not_activated" });
    expect(laptopNow.body.license.activations).toBe(1);
    const studioNow = await app("validate", { key, fingerprint: "fp-studio-0002" });
    expect(studioNow.body).toMatchObject({ valid: true, code: "valid" });
    // And the freed activation is there for another machine.
    expect((await app("activate", { key, fingerprint: "fp-new-0003" })).status).toBe(200);

    // Freed twice (a double click, a second tab): not found, nothing else changes.
    expect((await free(cookie, license.id, laptop.id)).status).toBe(404);
    expect(
      (await libraryJson(cookie)).find((i) => i.license?.id === license.id)?.license,
    ).toMatchObject({ activations: [{ id: studio.id }, { fingerprint: "fp-new-0003" }] });
  });

  it("another buyer cannot free someone's activation, nor can another site or nobody", async () => {
    const { cookie, license } = await licensedPurchase();
    const { key } = license;
    expect((await app("activate", { key, fingerprint: "fp-owner-1" })).status).toBe(200);
    const [activation] =
      (await libraryJson(cookie)).find((i) => i.license?.id === license.id)?.license?.activations ??
      [];
    if (!activation) throw new Error("no activation");

    // Another signed-in buyer, with a licence of their own: 404, as for an unknown licence.
    const other = await licensedPurchase();
    const stranger = await free(other.cookie, license.id, activation.id);
    expect(stranger.status).toBe(404);
    expect(await stranger.text()).not.toContain(key);
    // Their own licence id with the owner's activation: not theirs either.
    expect((await free(other.cookie, other.license.id, activation.id)).status).toBe(404);
    // Nobody signed in; a form posted from another site with the owner's cookie.
    expect((await free("", license.id, activation.id)).status).toBe(401);
    const crossSite = await free(cookie, license.id, activation.id, {
      ...FORM,
      origin: "https://evil.example",
    });
    expect(crossSite.status).toBe(403);
    // Nothing changed: still activated, and the other buyer's library never shows this key.
    expect((await app("validate", { key, fingerprint: "fp-owner-1" })).body).toMatchObject({
      valid: true,
      code: "valid",
      license: { activations: 1 },
    });
    expect(await library(other.cookie)).not.toContain(key);
  });

  it("keys that stopped working say why, and offer no machines to free", async () => {
    // Revoked by the seller: the product is still in the library, its key says it was revoked.
    const revoked = await licensedPurchase("Revoked Tool");
    expect((await app("activate", { key: revoked.license.key, fingerprint: "fp-r" })).status).toBe(
      200,
    );
    const res = await h.admin(`/api/admin/licenses/${revoked.license.id}/revoke`, {
      method: "POST",
      json: { reason: "chargeback fraud" },
    });
    expect(res.status).toBe(200);
    let page = await library(revoked.cookie);
    expect(page).toContain("Revoked Tool");
    expect(page).toContain(revoked.license.key);
    expect(page).toContain(">Revoked</span>");
    expect(page).toContain("This licence key has been revoked.");
    expect(page).not.toContain(">Deactivate<");
    expect((await libraryJson(revoked.cookie))[0]?.license).toMatchObject({
      status: "revoked",
    });

    // Refunded: the files are gone from the library, the key is listed apart, with the reason.
    const refunded = await licensedPurchase("Refunded Tool");
    await h.deps.db
      .updateTable("entitlements")
      .set({ status: "revoked", revoked_reason: "refunded", updated_at: h.clock.now() })
      .where("product_id", "=", refunded.product.id)
      .execute();
    page = await library(refunded.cookie);
    expect(page).toContain("Other licence keys");
    expect(page).toContain("Refunded Tool: licence key");
    expect(page).toContain(refunded.license.key);
    expect(page).toContain(">Refunded</span>");
    expect(page).toContain("This purchase was refunded");
    expect(page).not.toContain("plugin.zip");
    expect(await libraryJson(refunded.cookie)).toEqual([]);

    // Disputed: paused while the dispute is open.
    const disputed = await licensedPurchase("Disputed Tool");
    await h.deps.db
      .updateTable("entitlements")
      .set({ status: "suspended", updated_at: h.clock.now() })
      .where("product_id", "=", disputed.product.id)
      .execute();
    page = await library(disputed.cookie);
    expect(page).toContain(">Disputed</span>");
    expect(page).toContain("paused while a payment dispute is open");
  });

  it("a product without licences shows no key, and its JSON item says license: null", async () => {
    const buyer = email("plain");
    const { product } = await h.ownedProduct(buyer);
    const cookie = await h.signIn(buyer);
    const items = await libraryJson(cookie);
    expect(items).toEqual([expect.objectContaining({ license: null })]);
    expect(items[0]?.product.slug).toBe(product.slug);
    const page = await library(cookie);
    expect(page).not.toContain("Licence key");
    expect(page).not.toContain("/assets/library.js");
    expect((await h.request("/assets/library.js")).headers.get("content-type")).toContain(
      "javascript",
    );
  });

  it("the receipt carries the purchase's key, for one-time and subscription orders", async () => {
    const product = await h.createProduct({
      name: "Receipt Plugin",
      license: { enabled: true, activationLimit: 3 },
    });
    await h.upload(product.slug, "plugin.zip", "bytes");
    const plain = await h.createProduct({ name: "Receipt Plain" });
    const id = `${dialect}-${Date.now()}`;
    const buyers = {
      once: email("once"),
      sub: email("sub"),
      plain: email("nokey"),
    };
    // A one-time purchase: the entitlement is the order's own.
    await paidOrderWithQueuedReceipt(h, `ord_once_${id}`, product.id, { email: buyers.once });
    // A subscription: the entitlement is the subscription's.
    await paidOrderWithQueuedReceipt(h, `ord_sub_${id}`, product.id, { email: buyers.sub }, false);
    await h.deps.db
      .updateTable("orders")
      .set({ subscription_id: `sub_${id}` })
      .where("id", "=", `ord_sub_${id}`)
      .execute();
    await grantAccess({
      ctx: h.ctx,
      input: {
        productId: product.id,
        owner: { email: buyers.sub },
        source: "subscription",
        sourceRef: `sub_${id}`,
      },
    });
    await paidOrderWithQueuedReceipt(h, `ord_plain_${id}`, plain.id, { email: buyers.plain });

    const sent = await sendQueuedReceipts({
      ctx: h.ctx,
      input: { orderIds: [`ord_once_${id}`, `ord_sub_${id}`, `ord_plain_${id}`] },
    });
    expect(sent).toEqual({ claimed: 3, tried: 3 });

    const keys = await h.deps.db
      .selectFrom("licenses as l")
      .innerJoin("entitlements as e", "e.id", "l.entitlement_id")
      .select(["l.key", "e.email"])
      .where("e.product_id", "=", product.id)
      .execute();
    const keyOf = (address: string) => keys.find((k) => k.email === address)?.key as string;
    expect(keyOf(buyers.once)).toMatch(KEY);
    expect(keyOf(buyers.sub)).toMatch(KEY);
    for (const address of [buyers.once, buyers.sub]) {
      const [mail] = await readOutbox(h.deps.db, { to: address, limit: 1 });
      expect(mail?.subject).toBe("Your purchase: Receipt Plugin");
      expect(mail?.text).toContain(`Your licence key: ${keyOf(address)}`);
      expect(mail?.text).toContain(`in your library: ${PUBLIC_URL}/library`);
      expect(mail?.html).toContain(keyOf(address));
      // Only its own key.
      for (const other of keys)
        if (other.email !== address) expect(mail?.text).not.toContain(other.key);
    }
    const [plainMail] = await readOutbox(h.deps.db, { to: buyers.plain, limit: 1 });
    expect(plainMail?.subject).toBe("Your purchase: Receipt Plain");
    expect(plainMail?.text).not.toContain("licence key");
  });
});
