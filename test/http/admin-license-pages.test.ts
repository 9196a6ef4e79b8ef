import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage, waitFor } from "../support/stripe.ts";

const html = { accept: "text/html" };

/** The page's words without tags, spaces folded, for matching what a seller reads. */
const textOf = (page: string) =>
  page
    .replace(/<[^>]*>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
/** The text of a page's first table (the list, without the filter's product names). */
const tableOf = (page: string) => textOf(/<table[\s\S]*?<\/table>/.exec(page)?.[0] ?? "");

interface KeyJson {
  id: string;
  key: string;
  status: string;
  reason: string | null;
  orderId: string | null;
  activationLimit: number | null;
  ownLimit: boolean;
  activationCount: number;
  activations: { id: string; fingerprint: string }[];
}

/** The seller's licence pages: the product's settings, the list, a key's page, its forms. */
describe.each(dialects)("seller licence pages on %s", (dialect) => {
  let h: Harness;
  let owner: string;
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: true });
    owner = await h.signIn("owner@shop.test");
  });
  afterAll(() => h.close());

  const page = async (path: string) => {
    const res = await h.request(path, { headers: html, cookie: owner });
    return { status: res.status, html: await res.text() };
  };
  const form = (path: string, fields: Record<string, string>) =>
    h.request(path, {
      method: "POST",
      cookie: owner,
      headers: {
        ...html,
        "content-type": "application/x-www-form-urlencoded",
        origin: PUBLIC_URL,
      },
      body: new URLSearchParams(fields).toString(),
    });
  const keysOf = async (email: string) =>
    (await (await h.admin(`/api/admin/licenses?email=${encodeURIComponent(email)}`)).json())
      .licenses as KeyJson[];
  const keyById = async (id: string) =>
    (await (await h.admin(`/api/admin/licenses/${id}`)).json()) as KeyJson;
  const activate = (key: string, fingerprint: string, label?: string) =>
    h.request("/api/v1/licenses/activate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key, fingerprint, ...(label ? { label } : {}) }),
    });

  it("turns licence keys on from the product page, with a limit and no expiry, and refuses a bad limit", async () => {
    const product = await h.productOnSale({ name: "Plugin Pro" });
    await h.grant("early@example.com", product.slug);
    const before = await page(`/admin/products/${product.slug}`);
    expect(textOf(before.html)).toContain("Licence keys off");
    expect(before.html).toContain(`action="/admin/products/${product.slug}/license"`);

    const bad = await form(`/admin/products/${product.slug}/license`, {
      enabled: "true",
      activationLimit: "0",
      expires: "never",
    });
    expect(bad.status).toBe(400);
    const badPage = textOf(await bad.text());
    expect(badPage).toContain("Activation limit: a whole number of machines from 1");
    expect(badPage).not.toContain("Licence settings saved");
    const unchanged = await (await h.admin(`/api/admin/products/${product.slug}`)).json();
    expect(unchanged.license).toEqual({
      enabled: false,
      activationLimit: null,
      expiresWithAccess: true,
    });

    const on = await form(`/admin/products/${product.slug}/license`, {
      enabled: "true",
      activationLimit: "2",
      expires: "never",
    });
    expect(on.status).toBe(303);
    expect(on.headers.get("location")).toBe(`/admin/products/${product.slug}?done=license-on`);
    const saved = await (await h.admin(`/api/admin/products/${product.slug}`)).json();
    expect(saved.license).toEqual({ enabled: true, activationLimit: 2, expiresWithAccess: false });
    // Whoever owned it already was given a key.
    expect(await keysOf("early@example.com")).toHaveLength(1);

    const after = await page(`/admin/products/${product.slug}?done=license-on`);
    const text = textOf(after.html);
    expect(text).toContain("Licence keys on: every purchase comes with a key");
    expect(after.html).toMatch(/name="activationLimit"[^>]*value="2"/);
    expect(after.html).toMatch(/value="never" selected/);
    expect(after.html).toContain(`/admin/licenses?product=${product.slug}`);

    // No limit, keys ending with access; then off again, which keeps the settings.
    const noLimit = await form(`/admin/products/${product.slug}/license`, {
      enabled: "true",
      activationLimit: "",
      expires: "with-access",
    });
    expect(noLimit.headers.get("location")).toContain("done=license-saved");
    const off = await form(`/admin/products/${product.slug}/license`, {
      activationLimit: "",
      expires: "with-access",
    });
    expect(off.headers.get("location")).toContain("done=license-off");
    expect((await (await h.admin(`/api/admin/products/${product.slug}`)).json()).license).toEqual({
      enabled: false,
      activationLimit: null,
      expiresWithAccess: true,
    });
    // The key already issued keeps working.
    const [early] = await keysOf("early@example.com");
    expect((await activate(early?.key as string, "laptop")).status).toBe(200);
  });

  it("lists keys with owner, order, status and activations, and finds them by email and product", async () => {
    const product = await h.productOnSale({
      name: "Theme Kit",
      license: { enabled: true, activationLimit: 3 },
    });
    const other = await h.productOnSale({ name: "Other App", license: { enabled: true } });
    const res = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const started = (await res.json()) as { url: string; orderId: string };
    expect((await payOnHostedPage(started.url, { email: "payer@example.com" })).status).toBe(303);
    const [bought] = await waitFor(async () => {
      const keys = await keysOf("payer@example.com");
      return keys.length ? keys : null;
    }, "the purchase's key");
    await h.grant("payer@example.com", other.slug);
    expect((await activate(bought?.key as string, "fp-desk", "Desk PC")).status).toBe(200);

    const all = await page("/admin/licenses");
    expect(all.status).toBe(200);
    expect(all.html).toContain('aria-current="page"');
    const row = textOf(all.html);
    expect(row).toContain(bought?.key);
    expect(row).toContain("payer@example.com");
    expect(row).toContain("Theme Kit");
    expect(all.html).toContain(`href="/admin/orders/${started.orderId}"`);
    expect(all.html).toContain(`href="/admin/licenses/${bought?.id}"`);
    expect(row).toContain("1 of 3");

    const byEmail = await page("/admin/licenses?email=PAYER%40example.com");
    expect(textOf(byEmail.html)).toContain("Keys of PAYER@example.com");
    expect(textOf(byEmail.html)).toContain("Other App");
    expect(textOf(byEmail.html)).toContain("granted by you");
    const byBoth = await page(`/admin/licenses?email=payer%40example.com&product=${other.slug}`);
    expect(tableOf(byBoth.html)).toContain("Other App");
    expect(tableOf(byBoth.html)).not.toContain("Theme Kit");
    const nobody = await page("/admin/licenses?email=nobody%40example.com");
    expect(textOf(nobody.html)).toContain("No keys match.");

    // The customer's page lists their keys, each linking to its page.
    const customer = await page("/admin/customers?email=payer%40example.com");
    expect(textOf(customer.html)).toContain("Licence keys of payer@example.com");
    expect(customer.html).toContain(`href="/admin/licenses/${bought?.id}"`);

    // So does the order page: the seller answering "where is my key" starts from the order.
    const order = await page(`/admin/orders/${started.orderId}`);
    expect(textOf(order.html)).toContain("Licence key");
    expect(order.html).toContain(`href="/admin/licenses/${bought?.id}"`);
    expect(textOf(order.html)).toContain(bought?.key);
  });

  it("shows a key's machines, sets the customer's limit, frees machines and revokes the key", async () => {
    const product = await h.productOnSale({
      name: "Desktop App",
      license: { enabled: true, activationLimit: 2 },
    });
    await h.grant("dev@example.com", product.slug);
    const [granted] = await keysOf("dev@example.com");
    const { id, key } = granted as KeyJson;
    expect((await activate(key, "fp-one", "Work laptop")).status).toBe(200);
    expect((await activate(key, "fp-two")).status).toBe(200);
    expect((await activate(key, "fp-three")).status).toBe(409);

    const shown = await page(`/admin/licenses/${id}`);
    expect(shown.status).toBe(200);
    const text = textOf(shown.html);
    expect(text).toContain(`Licence ${key}`);
    expect(text).toContain("Work laptop");
    expect(text).toContain("fp-one");
    expect(text).toContain("fp-two");
    expect(text).toContain("Activations (2 of 2)");
    expect(text).toContain("(the product's)");
    expect(text).toContain("Empty: the product's limit (2 machines).");
    expect(shown.html).toContain(`href="/admin/customers?email=dev%40example.com"`);
    expect(text).toContain("Free all");
    expect(text).toContain("It cannot be undone.");
    expect(shown.html).toContain("data-confirm=");
    expect((await page("/admin/licenses/lic_nope")).status).toBe(404);

    // This customer's own limit: raised, refused when not a number, then the product's again.
    const raised = await form(`/admin/licenses/${id}/limit`, { activationLimit: "3" });
    expect(raised.status).toBe(303);
    expect(raised.headers.get("location")).toBe(`/admin/licenses/${id}?done=limit`);
    expect(await keyById(id)).toMatchObject({ activationLimit: 3, ownLimit: true });
    expect((await activate(key, "fp-three")).status).toBe(200);
    const ownPage = textOf((await page(`/admin/licenses/${id}?done=limit`)).html);
    expect(ownPage).toContain("Activation limit saved for this customer.");
    expect(ownPage).toContain("(this customer's own)");
    const refused = await form(`/admin/licenses/${id}/limit`, { activationLimit: "many" });
    expect(refused.status).toBe(400);
    const refusedText = textOf(await refused.text());
    expect(refusedText).toContain("Machines: a whole number from 1 to 100000");
    expect(await keyById(id)).toMatchObject({ activationLimit: 3 });
    const reset = await form(`/admin/licenses/${id}/limit`, { activationLimit: "" });
    expect(reset.headers.get("location")).toBe(`/admin/licenses/${id}?done=limit-product`);
    expect(await keyById(id)).toMatchObject({ activationLimit: 2, ownLimit: false });

    // Free one machine, the same one again (already gone), then all.
    const one = (await keyById(id)).activations.find((a) => a.fingerprint === "fp-one");
    const freed = await form(`/admin/licenses/${id}/reset`, { activation: one?.id as string });
    expect(freed.headers.get("location")).toBe(`/admin/licenses/${id}?done=freed`);
    const again = await form(`/admin/licenses/${id}/reset`, { activation: one?.id as string });
    expect(again.headers.get("location")).toBe(`/admin/licenses/${id}?done=already-free`);
    expect((await keyById(id)).activationCount).toBe(2);
    const all = await form(`/admin/licenses/${id}/reset`, {});
    expect(all.headers.get("location")).toBe(`/admin/licenses/${id}?done=freed-all`);
    expect((await keyById(id)).activationCount).toBe(0);

    // Revoke: the app is refused at once; the page says so and offers no second revoke.
    const revoked = await form(`/admin/licenses/${id}/revoke`, { reason: "shared on a forum" });
    expect(revoked.headers.get("location")).toBe(`/admin/licenses/${id}?done=revoked`);
    expect(await keyById(id)).toMatchObject({ status: "revoked", reason: "shared on a forum" });
    expect((await activate(key, "fp-one")).status).toBe(403);
    const after = await page(`/admin/licenses/${id}?done=revoked`);
    const afterText = textOf(after.html);
    expect(afterText).toContain("Key revoked: your app refuses it from now on.");
    expect(afterText).toContain("Revoked: shared on a forum.");
    expect(after.html).not.toContain(`action="/admin/licenses/${id}/revoke"`);
  });

  it("refuses a licence form posted from another site", async () => {
    const product = await h.productOnSale({ license: { enabled: true } });
    await h.grant("csrf@example.com", product.slug);
    const [granted] = await keysOf("csrf@example.com");
    const res = await h.request(`/admin/licenses/${granted?.id}/revoke`, {
      method: "POST",
      cookie: owner,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
      },
      body: "reason=x",
    });
    expect(res.status).toBe(403);
    expect((await keyById(granted?.id as string)).status).toBe("active");
  });
});
