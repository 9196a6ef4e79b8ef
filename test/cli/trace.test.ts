import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PDFDocument, StandardFonts } from "@cantoo/pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderReference } from "../../src/core/orders/reference.ts";
import { stampQueued } from "../../src/core/stamping/stamps.ts";
import { cli } from "../support/cli.ts";
import { type Harness, makeHarness } from "../support/harness.ts";
import { paidOrderWithQueuedReceipt } from "../support/receipts.ts";

/**
 * `tollgate trace {file.pdf}` as a seller runs it: the real CLI in its own process, against the
 * shop that stamped a buyer's copy (SQLite in a temp folder).
 */
describe("tollgate trace", () => {
  let h: Harness;
  let env: Record<string, string>;
  beforeAll(async () => {
    h = await makeHarness("sqlite");
    env = {
      DATABASE_URL: h.config.database.url,
      STORAGE_URL: `file:${(h.config.storage as { root: string }).root}`,
      PUBLIC_URL: "http://localhost:9999",
      SESSION_SECRET: "s".repeat(40),
    };
  });
  afterAll(() => h?.close());

  it("says how to use it, with examples", async () => {
    const help = await cli(["trace", "--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: tollgate trace [options] <file>");
    expect(help.stdout).toContain("$ tollgate trace leaked.pdf");
  });

  it("names the order, the buyer's email, the product and the date of a leaked copy", async () => {
    const product = await h.createProduct({ name: "Night Sky Atlas" });
    await h.admin(`/api/admin/products/${product.slug}`, {
      method: "PATCH",
      json: { stamp: { pdfs: true } },
    });
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage().drawText("Orion", { x: 72, y: 700, size: 20, font });
    const pdf = new Uint8Array(await doc.save());
    const book = await h.upload(product.slug, "atlas.pdf", pdf, "application/pdf");
    const email = "leaker@example.com";
    const orderId = "ord_0123456789abcdefghijklmn";
    const entitlement = await paidOrderWithQueuedReceipt(h, orderId, product.id, { email });
    const cookie = await h.signIn(email);
    const path = `/download/${product.slug}/${book.id}`;
    expect(entitlement).toBeTruthy();
    expect((await h.request(path, { cookie })).status).toBe(503);
    await stampQueued({ ctx: h.ctx });
    let res = await h.request(path, { cookie });
    for (let i = 0; res.status === 503 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await h.request(path, { cookie });
    }
    expect(res.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), "tollgate-trace-"));
    const leaked = join(dir, "leaked.pdf");
    writeFileSync(leaked, new Uint8Array(await res.arrayBuffer()));

    const traced = await cli(["trace", leaked], env);
    expect(traced.stderr).toBe("");
    expect(traced.code).toBe(0);
    expect(traced.stdout).toContain(`is the copy stamped for ${email}`);
    expect(traced.stdout).toContain(`order:    ${orderReference(orderId)}`);
    expect(traced.stdout).toContain(`email:    ${email}`);
    expect(traced.stdout).toContain(`product:  Night Sky Atlas (${product.slug}), atlas.pdf`);
    const json = JSON.parse((await cli(["trace", leaked, "--json"], env)).stdout);
    expect(json).toMatchObject({ orderId, email, product: { slug: product.slug } });

    // The original carries no trace id: said in words, exit 1.
    const original = join(dir, "original.pdf");
    writeFileSync(original, pdf);
    const none = await cli(["trace", original], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("carries no trace id");
  });
});
