import { PDFDocument, StandardFonts } from "@cantoo/pdf-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox } from "../../src/adapters/mail-outbox/index.ts";
import { pageTexts, pdfLibStamper } from "../../src/adapters/stamper-pdflib/index.ts";
import { orderReference } from "../../src/core/orders/reference.ts";
import type { PdfStamper } from "../../src/core/ports.ts";
import { stampQueued, traceCopy } from "../../src/core/stamping/stamps.ts";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness, PUBLIC_URL } from "../support/harness.ts";
import { payOnHostedPage } from "../support/stripe.ts";

const html = { accept: "text/html" };

/** A real PDF of `pages` pages, made with the library itself. */
async function makePdf(pages: number, label = "Chapter"): Promise<Uint8Array<ArrayBuffer>> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  for (let i = 1; i <= pages; i++)
    doc.addPage().drawText(`${label} ${i}`, { x: 72, y: 700, size: 24, font });
  return new Uint8Array(await doc.save());
}

/**
 * The library's stamper behind a gate the test opens, counting the copies it makes; `fail`
 * makes it throw as a broken PDF would.
 */
function gatedStamper() {
  const real = pdfLibStamper();
  // Every stamp waiting at the gate goes on when it opens, whichever gate it waited at.
  let waiting: (() => void)[] = [];
  let isOpen = false;
  const state = {
    calls: 0,
    fail: false,
    open: () => {
      isOpen = true;
      for (const go of waiting) go();
      waiting = [];
    },
    close: () => {
      isOpen = false;
    },
  };
  const gate = () =>
    isOpen ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve));
  const stamper: PdfStamper = {
    async stamp(pdf, stamp) {
      state.calls++;
      await gate();
      if (state.fail) throw new Error("Failed to parse PDF document (line:0 col:0 offset=0)");
      return real.stamp(pdf, stamp);
    },
    readTrace: (pdf) => real.readTrace(pdf),
  };
  return { stamper, state };
}

let counter = 0;
const uniqueEmail = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

describe.each(dialects)("PDF stamping on %s (proxy mode)", (dialect) => {
  let h: Harness;
  const { stamper, state } = gatedStamper();
  beforeAll(async () => {
    h = await makeHarness(dialect, {}, { stripe: "manual", pdfStamper: stamper });
  });
  afterAll(async () => {
    state.open();
    await h?.close();
  });

  async function stampingProduct(onFailure: "original" | "hold" = "original") {
    const product = await h.createProduct({ name: "The Field Guide" });
    const set = await h.admin(`/api/admin/products/${product.slug}`, {
      method: "PATCH",
      json: { stamp: { pdfs: true, onFailure } },
    });
    expect(set.status, await set.clone().text()).toBe(200);
    expect(((await set.json()) as { stamp: unknown }).stamp).toEqual({ pdfs: true, onFailure });
    const pdf = await makePdf(3);
    const book = await h.upload(product.slug, "field-guide.pdf", pdf, "application/pdf");
    const extra = await h.upload(product.slug, "maps.zip", "map bytes");
    return { product, book, extra, pdf };
  }

  /** A guest buys through the local Stripe; the success page confirms the payment. */
  async function buy(slug: string, email: string) {
    const started = await h.request(`/checkout/${slug}`, {
      method: "POST",
      headers: { accept: "application/json", origin: PUBLIC_URL },
    });
    const { url, sessionId, orderId } = (await started.json()) as {
      url: string;
      sessionId: string;
      orderId: string;
    };
    expect((await payOnHostedPage(url, { email })).status).toBe(303);
    const success = await h.request(`/checkout/success?session_id=${sessionId}`, {
      headers: html,
    });
    expect(success.status).toBe(200);
    return { sessionId, orderId };
  }

  const stampRows = (assetId: string) =>
    h.deps.db.selectFrom("pdf_stamps").selectAll().where("asset_id", "=", assetId).execute();

  /** Asks for the file until it is there (the preparing page in between). */
  async function downloadWhenReady(path: string, cookie: string) {
    for (let i = 0; i < 100; i++) {
      const res = await h.request(path, { cookie, headers: html });
      if (res.status !== 503) return res;
      const text = await res.clone().text();
      // Held (the seller's choice on a failure): not a copy on its way.
      if (!text.includes("Preparing your copy")) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `the copy never became ready: ${JSON.stringify(await h.deps.db.selectFrom("pdf_stamps").select(["status", "last_error", "attempts"]).execute())}`,
    );
  }

  it("stamps each buyer's PDF in the background; the receipt and other files never wait; the preparing page, then the stamped copy; trace names the order", async () => {
    state.close();
    state.fail = false;
    const { product, book, extra, pdf } = await stampingProduct();
    const email = uniqueEmail("reader");
    const { orderId } = await buy(product.slug, email);
    // Queued by the payment, once.
    const queued = await stampRows(book.id);
    expect(queued.map((r) => r.status)).toEqual(["pending"]);
    expect(queued[0]?.order_id).toBe(orderId);
    // The receipt went out while the copy is still being made.
    await h.runtime.receiptsSettled();
    const receipt = await h.lastMailTo(email);
    expect(receipt.subject).toBe("Your purchase: The Field Guide");
    const cookie = await h.signIn(email);
    // Any other file of the product downloads at once.
    const zip = await h.request(`/download/${product.slug}/${extra.id}`, { cookie });
    expect(zip.status).toBe(200);
    expect(await zip.text()).toBe("map bytes");
    // The product's zip, which holds the PDF, waits for it too (before any byte).
    const early = await h.request(`/library/${product.slug}/all.zip`, { cookie, headers: html });
    expect(early.status).toBe(503);
    expect(await early.text()).toContain("Preparing your copy");
    // The PDF: the preparing page, which asks again by itself.
    const path = `/download/${product.slug}/${book.id}`;
    const waiting = await h.request(path, { cookie, headers: html });
    expect(waiting.status).toBe(503);
    expect(waiting.headers.get("refresh")).toBe(`3;url=${path}`);
    expect(waiting.headers.get("retry-after")).toBe("3");
    const page = await waiting.text();
    expect(page).toContain("Preparing your copy");
    expect(page).toContain('http-equiv="refresh"');
    // A program gets the same answer as JSON.
    const api = await h.request(path, { cookie });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { code: string }).code).toBe("unavailable");

    state.open();
    const res = await downloadWhenReady(path, cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const copy = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(copy.byteLength);
    // The original's bytes, then the stamp (an incremental update).
    expect(copy.byteLength).toBeGreaterThan(pdf.byteLength);
    expect(Buffer.from(copy.subarray(0, pdf.byteLength)).equals(Buffer.from(pdf))).toBe(true);
    const texts = await pageTexts(copy);
    expect(texts).toHaveLength(3);
    texts.forEach((text, i) => {
      expect(text).toContain(`Chapter ${i + 1}`);
      expect(text).toContain(`Licensed to ${email}, order ${orderReference(orderId)}`);
    });
    // Made once; the copy is this buyer's own object, and the original is untouched.
    expect(state.calls).toBe(1);
    const [row] = await stampRows(book.id);
    expect(row?.status).toBe("ready");
    expect(row?.storage_key).not.toBe(null);
    const again = await h.request(path, { cookie });
    expect(Buffer.from(await again.arrayBuffer()).equals(Buffer.from(copy))).toBe(true);
    expect(state.calls).toBe(1);

    // The product's zip carries the stamped copy, at its own size.
    const zip2 = await h.request(`/library/${product.slug}/all.zip`, { cookie });
    expect(zip2.status).toBe(200);
    const zipped = Buffer.from(await zip2.arrayBuffer());
    expect(Number(zip2.headers.get("content-length"))).toBe(zipped.byteLength);
    expect(zipped.includes(Buffer.from(copy))).toBe(true);

    // `tollgate trace`'s verb: the leaked copy names the order.
    const found = await traceCopy({ ctx: h.ctx, input: { pdf: copy } });
    expect(found).toMatchObject({
      orderId,
      orderReference: orderReference(orderId),
      email,
      product: { slug: product.slug, name: "The Field Guide" },
      filename: "field-guide.pdf",
    });
    expect(found.purchasedAt).toBeTypeOf("number");
    await expect(traceCopy({ ctx: h.ctx, input: { pdf } })).rejects.toThrow(/no trace id/);
  });

  it("two stampers at once stamp a copy once; a stamper that died is taken over after its lease", async () => {
    state.close();
    state.fail = false;
    const { product, book } = await stampingProduct();
    const emails = [uniqueEmail("a"), uniqueEmail("b"), uniqueEmail("c")];
    for (const email of emails) await h.grant(email, product.slug);
    const before = state.calls;
    // Grants queue nothing; a first download does (each buyer's preparing page).
    for (const email of emails) {
      const cookie = await h.signIn(email);
      const res = await h.request(`/download/${product.slug}/${book.id}`, { cookie });
      expect(res.status).toBe(503);
    }
    expect(await stampRows(book.id)).toHaveLength(3);
    // Two more passes race the background stamper (two processes' worth on one database).
    const passes = Promise.all([
      stampQueued({ ctx: h.ctx, input: { limit: 3 } }),
      stampQueued({ ctx: h.ctx, input: { limit: 3 } }),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    state.open();
    await passes;
    for (let i = 0; i < 100; i++) {
      const rows = await stampRows(book.id);
      if (rows.every((r) => r.status === "ready")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const rows = await stampRows(book.id);
    expect(rows.map((r) => r.status)).toEqual(["ready", "ready", "ready"]);
    expect(new Set(rows.map((r) => r.trace_id)).size).toBe(3);
    expect(state.calls - before).toBe(3);

    // A stamper that died mid-copy: its row stays leased until the lease ends, then is retaken.
    const email = uniqueEmail("late");
    await h.grant(email, product.slug);
    const cookie = await h.signIn(email);
    state.close();
    const callsBefore = state.calls;
    await h.request(`/download/${product.slug}/${book.id}`, { cookie });
    // The background stamper claims it, and waits at the gate with it.
    for (let i = 0; i < 250 && state.calls === callsBefore; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(state.calls).toBe(callsBefore + 1);
    // It holds it: nobody else takes it.
    expect((await stampQueued({ ctx: h.ctx })).claimed).toBe(0);
    h.clock.advance(6 * 60_000);
    const takeover = stampQueued({ ctx: h.ctx });
    // The gate opens once the taker has claimed the row and reached it too; opened sooner, the
    // first stamper could finish before anyone took its expired lease over, and keep its copy.
    for (let i = 0; i < 250 && state.calls === callsBefore + 1; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(state.calls).toBe(callsBefore + 2);
    state.open();
    expect((await takeover).stamped).toBe(1);
    // The first stamper's late copy is not kept: the row holds the one that took over.
    await new Promise((r) => setTimeout(r, 200));
    const res = await downloadWhenReady(`/download/${product.slug}/${book.id}`, cookie);
    expect(res.status).toBe(200);
    const texts = await pageTexts(new Uint8Array(await res.arrayBuffer()));
    expect(texts[0]).toContain(`Licensed to ${email}`);
  });

  for (const onFailure of ["original", "hold"] as const) {
    it(`a copy that cannot be stamped alerts the seller once and ${onFailure === "original" ? "serves the original" : "holds the file"}`, async () => {
      state.close();
      state.fail = true;
      const { product, book, pdf } = await stampingProduct(onFailure);
      const email = uniqueEmail(`fail-${onFailure}`);
      await h.grant(email, product.slug);
      const cookie = await h.signIn(email);
      const path = `/download/${product.slug}/${book.id}`;
      expect((await h.request(path, { cookie, headers: html })).status).toBe(503);
      state.open();
      const res = await downloadWhenReady(path, cookie).catch(async () =>
        h.request(path, { cookie, headers: html }),
      );
      const [row] = await stampRows(book.id);
      expect(row?.status).toBe("failed");
      expect(row?.last_error).toMatch(/Failed to parse PDF/);
      if (onFailure === "original") {
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(pdf))).toBe(true);
      } else {
        expect(res.status).toBe(503);
        const again = await h.request(path, { cookie, headers: html });
        expect(again.status).toBe(503);
        expect(again.headers.get("refresh")).toBe(null);
        expect(await again.text()).toContain("could not be prepared");
      }
      const alerts = (await readOutbox(h.deps.db, { to: "owner@shop.test", limit: 20 })).filter(
        (m) => m.subject.includes("could not be stamped") && m.text.includes(email),
      );
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.text).toContain(
        onFailure === "hold" ? "cannot download the file" : "without their stamp",
      );
      state.fail = false;
    });
  }

  it("the seller turns stamping on and chooses what a failure does on the product's page", async () => {
    const product = await h.createProduct({ name: "Page Kit" });
    const seller = await h.signIn("owner@shop.test");
    const page = await h.request(`/admin/products/${product.slug}`, { cookie: seller });
    const before = await page.text();
    expect(before).toContain("PDF stamping");
    expect(before).toContain(`action="/admin/products/${product.slug}/stamping"`);
    const saved = await h.request(`/admin/products/${product.slug}/stamping`, {
      method: "POST",
      cookie: seller,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: PUBLIC_URL },
      body: "pdfs=on&onFailure=hold",
    });
    expect(saved.status, await saved.clone().text()).toBe(303);
    const got = await h.admin(`/api/admin/products/${product.slug}`);
    expect(((await got.json()) as { stamp: unknown }).stamp).toEqual({
      pdfs: true,
      onFailure: "hold",
    });
  });

  it("products that do not stamp, and files that are not PDFs, are delivered as they are", async () => {
    state.open();
    const product = await h.createProduct({ name: "Plain" });
    const pdf = await makePdf(1);
    const book = await h.upload(product.slug, "plain.pdf", pdf, "application/pdf");
    const email = uniqueEmail("plain");
    await h.grant(email, product.slug);
    const cookie = await h.signIn(email);
    const res = await h.request(`/download/${product.slug}/${book.id}`, { cookie });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(pdf))).toBe(true);
    expect(await stampRows(book.id)).toHaveLength(0);
  });
});
