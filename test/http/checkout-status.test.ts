import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { payOnHostedPage } from "../support/stripe.ts";

const html = { accept: "text/html" };

describe.each(dialects)("the checkout page that updates itself on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    // "manual": no webhooks, so only the page's own checks can move the order along.
    h = await makeHarness(dialect, {}, { stripe: "manual" });
  });
  afterAll(() => h.close());

  const sync = (sessionId: string) =>
    h.request("/api/checkout/sync", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ sessionId }),
    });

  it("serves its script as JavaScript from our own origin", async () => {
    const res = await h.request("/assets/checkout.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    const js = await res.text();
    expect(js).toContain("/api/checkout/sync");
    expect(() => new Function(js)).not.toThrow();
  });

  it("a pending bank transfer shows 'Confirming your payment...' with the script and a no-JS refresh; settled, the page shows the files", async () => {
    const product = await h.createProduct({ name: "Slow Kit" });
    await h.upload(product.slug, "slow-kit.zip", "slow bytes");
    const started = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const { url, sessionId } = (await started.json()) as { url: string; sessionId: string };
    const paid = await payOnHostedPage(url, { method: "bank_transfer", email: "slow@example.com" });
    expect(paid.status).toBe(303);

    const pending = await h.request(`/checkout/success?session_id=${sessionId}`, {
      headers: html,
    });
    expect(pending.headers.get("content-security-policy")).toContain("script-src 'self'");
    const page = await pending.text();
    expect(page).toContain("Confirming your payment...");
    expect(page).toContain('<script src="/assets/checkout.js" defer=""></script>');
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(page).toMatch(/<noscript><meta http-equiv="refresh" content="\d+"><\/noscript>/);
    expect(page).toContain('aria-live="polite"');
    expect(page).toContain(`data-session-id="${sessionId}"`);
    expect(page).toContain("a receipt with a download link that works for 24 hours");

    const before = await sync(sessionId);
    expect(before.headers.get("cache-control")).toContain("no-store");
    expect(await before.json()).toMatchObject({ status: "pending", files: [] });

    const settled = await fetch(`${h.runtime.localStripeUrl}/_local/sessions/${sessionId}/settle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(settled.status, await settled.clone().text()).toBe(200);
    expect((await settled.json()).events).toContain("checkout.session.async_payment_succeeded");
    expect((await (await sync(sessionId)).json()).status).toBe("paid");

    const ready = await (
      await h.request(`/checkout/success?session_id=${sessionId}`, { headers: html })
    ).text();
    expect(ready).toContain("Payment received. Your files are ready.");
    expect(ready).toContain("Download slow-kit.zip");
    expect(ready).toContain('data-status="paid"');
    expect(ready).not.toContain("/assets/checkout.js");
    expect(ready).not.toContain("http-equiv");
  });

  it("the settle trigger refuses a session with no bank transfer waiting", async () => {
    const product = await h.createProduct();
    const started = await h.request(`/checkout/${product.slug}`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const { sessionId } = (await started.json()) as { sessionId: string };
    const res = await fetch(`${h.runtime.localStripeUrl}/_local/sessions/${sessionId}/settle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain("has no bank transfer waiting");
  });
});
