import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/**
 * The read cache in front of sessions and access (core/readCache.ts) in one process: whatever it
 * remembers, the write that takes access away is seen by the very next request.
 */
describe.each(dialects)("the read cache on %s", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await makeHarness(dialect, { DELIVERY_MODE: "redirect" });
  });
  afterAll(() => h.close());

  /** A signed-in owner and a link of theirs, each having downloaded twice (the cache is warm). */
  async function warmOwner(label: string) {
    const email = uniqueEmail(label);
    const { product, asset } = await h.ownedProduct(email);
    const cookie = await h.signIn(email);
    const { token } = await h.token({ email, product: product.slug });
    const signedIn = () => h.request(`/download/${product.slug}/${asset.id}`, { cookie });
    const viaLink = () => h.request(`/d/${token}/${asset.id}`);
    for (let i = 0; i < 2; i++) {
      expect((await signedIn()).status).toBe(302);
      expect((await viaLink()).status).toBe(302);
    }
    return { email, product, asset, cookie, signedIn, viaLink };
  }

  it("a revoked buyer is refused on the next request, signed in and through a link", async () => {
    const owner = await warmOwner("revoked");
    const listed = await h.admin(
      `/api/admin/entitlements?email=${encodeURIComponent(owner.email)}`,
    );
    const [entitlement] = ((await listed.json()) as { entitlements: { id: string }[] })
      .entitlements;
    const revoked = await h.admin(`/api/admin/entitlements/${entitlement?.id}/revoke`, {
      method: "POST",
      json: { reason: "chargeback" },
    });
    expect(revoked.status).toBe(200);
    expect((await owner.signedIn()).status).toBe(403);
    expect((await owner.viaLink()).status).toBe(403);
  });

  it("a signed-out session is refused on the next request", async () => {
    const owner = await warmOwner("signed-out");
    const out = await h.request("/auth/logout", { method: "POST", cookie: owner.cookie });
    expect(out.status).toBeLessThan(400);
    expect((await owner.signedIn()).status).toBe(401);
  });

  it("a retired file is refused on the next request", async () => {
    const owner = await warmOwner("retired");
    const retired = await h.admin(`/api/admin/assets/${owner.asset.id}`, {
      method: "PATCH",
      json: { active: false },
    });
    expect(retired.status).toBe(200);
    expect((await owner.signedIn()).status).toBe(410);
    expect((await owner.viaLink()).status).toBe(410);
  });

  it("a subscription that ends is refused from its end, without any write", async () => {
    const owner = await warmOwner("ended");
    const listed = await h.admin(
      `/api/admin/entitlements?email=${encodeURIComponent(owner.email)}`,
    );
    const [entitlement] = ((await listed.json()) as { entitlements: { id: string }[] })
      .entitlements;
    // Ends in a moment: the cache keeps the row, and the rule reads its end at every request.
    await h.runtime.deps.db
      .updateTable("entitlements")
      .set({ ends_at: h.clock.now() + 1000 })
      .where("id", "=", entitlement?.id as string)
      .execute();
    expect((await owner.signedIn()).status).toBe(302);
    h.clock.advance(2000);
    expect((await owner.signedIn()).status).toBe(403);
  });
});
