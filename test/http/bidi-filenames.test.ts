import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { type Harness, makeHarness } from "../support/harness.ts";

/** Every bidirectional-text control a name could use to read as something else. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** The same controls as UTF-8, percent-encoded the way `filename*` carries them. */
const BIDI_ENCODED = /%E2%80%A[A-E]|%E2%81%A[6-9]|%E2%80%8[EF]|%D8%9C/i;

/** The name a browser saves: the RFC 8187 `filename*` of a Content-Disposition, decoded. */
function savedName(header: string | null): string {
  const encoded = /; filename\*=UTF-8''([^;\s]+)$/.exec(header ?? "")?.[1];
  if (encoded === undefined) throw new Error(`no filename* in ${JSON.stringify(header)}`);
  return decodeURIComponent(encoded);
}

const modes = dialects.flatMap((d) => (["proxy", "redirect"] as const).map((m) => [d, m] as const));

/**
 * "invoice\u202Efdp.exe" shows as "invoiceexe.pdf": a bidi override lets a file pass for another
 * kind. Uploads drop these controls, and a name stored before they did is still saved without them.
 */
describe.each(modes)("bidi controls in file names on %s, %s mode", (dialect, mode) => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await makeHarness(dialect, { DELIVERY_MODE: mode });
  });
  afterAll(() => h.close());

  /** Downloads as a signed-in owner would, following the redirect to the signed URL. */
  async function download(slug: string, assetId: string, cookie: string) {
    let res = await h.request(`/download/${slug}/${assetId}`, { cookie });
    if (mode === "redirect") {
      expect(res.status).toBe(302);
      res = await h.request(res.headers.get("location") ?? "");
    }
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("the real bytes");
    return res.headers.get("content-disposition");
  }

  async function ownedUpload(filename: string) {
    const email = `bidi-${mode}-${++n}@example.com`;
    const product = await h.createProduct();
    const asset = await h.upload(product.slug, filename, "the real bytes");
    await h.grant(email, product.slug);
    return { product, asset, cookie: await h.signIn(email) };
  }

  it("an upload named with bidi controls is stored, listed and saved without them", async () => {
    const { product, asset, cookie } = await ownedUpload(
      "invoice\u202Efdp.exe\u2066\u2067\u2068\u2069\u202A\u202B\u202C\u202D\u200E\u200F\u061C",
    );
    expect(asset.filename).toBe("invoicefdp.exe");
    const library = await (await h.request("/api/library", { cookie })).json();
    const files = library.items.find(
      (i: { product: { slug: string } }) => i.product.slug === product.slug,
    ).files;
    expect(files.map((f: { filename: string }) => f.filename)).toEqual(["invoicefdp.exe"]);
    const header = await download(product.slug, asset.id, cookie);
    expect(header).not.toMatch(BIDI_ENCODED);
    expect(savedName(header)).toBe("invoicefdp.exe");
  });

  it("a file stored with a bidi override before uploads dropped them is saved without it", async () => {
    const { product, asset, cookie } = await ownedUpload("report.pdf");
    // What an older Tollgate stored: the name exactly as the seller gave it.
    await h.deps.db
      .updateTable("assets")
      .set({ filename: "report\u202Efdp.exe" })
      .where("id", "=", asset.id)
      .execute();
    const header = await download(product.slug, asset.id, cookie);
    expect(header).not.toMatch(BIDI_ENCODED);
    expect(header).not.toMatch(BIDI);
    expect(savedName(header)).toBe("reportfdp.exe");
  });
});
