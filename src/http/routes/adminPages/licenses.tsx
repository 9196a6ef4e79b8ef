import { type Context, Hono } from "hono";
import { getProductForAdmin, listProducts } from "../../../core/catalog/products.ts";
import { invalidInput, isAppError } from "../../../core/errors.ts";
import {
  getLicense,
  listLicenses,
  resetLicense,
  revokeLicense,
  type SellerLicense,
  setLicenseLimit,
} from "../../../core/licenses/sellerLicenses.ts";
import { parseInput } from "../../../core/validate.ts";
import * as z from "../../../core/zod.ts";
import { LicensePage, LicensesPage } from "../../../pages/admin/licenses.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const NOTICES = {
  limit: "Activation limit saved for this customer.",
  "limit-product": "This customer has the product's activation limit again.",
  freed: "Machine freed: it no longer counts towards the limit.",
  "freed-all": "Every machine freed: none counts towards the limit until the app activates again.",
  "already-free": "That machine was already freed.",
  revoked: "Key revoked: your app refuses it from now on.",
};

/** How many keys the list shows at most (the newest). */
const SHOWN = 100;

const searchQuery = z.object({
  email: z._default(z.string().check(z.trim(), z.maxLength(254)), ""),
  product: z._default(z.string().check(z.trim(), z.maxLength(64)), ""),
});

/** The largest limit the licence schema takes. */
const MAX_LIMIT = 100_000;

export const licensePages = new Hono<HonoEnv>()
  .get("/admin/licenses", async (c) => {
    const ctx = c.get("ctx");
    const filters = parseInput(searchQuery, c.req.query());
    const [licenses, products] = await Promise.all([
      listLicenses({
        ctx,
        input: {
          ...(filters.email ? { email: filters.email } : {}),
          ...(filters.product ? { product: filters.product } : {}),
          limit: SHOWN,
        },
      }),
      listProducts({ ctx, input: { includeUnpublished: true } }),
    ]);
    return c.html(
      <LicensesPage
        {...pageProps(c)}
        filters={filters}
        licenses={licenses}
        products={products}
        shown={licenses.length >= SHOWN ? SHOWN : null}
      />,
    );
  })
  .get("/admin/licenses/:id", async (c) => {
    const license = await getLicense({ ctx: c.get("ctx"), input: { id: c.req.param("id") } });
    return licensePage(c, license, null);
  })
  .post("/admin/licenses/:id/limit", async (c) => {
    const ctx = c.get("ctx");
    const id = c.req.param("id");
    const typed = (await readForm(c)).activationLimit ?? "";
    const saved = await attempt(() =>
      setLicenseLimit({ ctx, input: { id, changes: { activationLimit: parseLimit(typed) } } }),
    );
    if (!saved.ok)
      return licensePage(
        c,
        await getLicense({ ctx, input: { id } }),
        { value: typed, message: saved.message },
        400,
      );
    return redirectDone(c, licensePath(id), saved.value.ownLimit ? "limit" : "limit-product");
  })
  .post("/admin/licenses/:id/reset", async (c) => {
    const ctx = c.get("ctx");
    const id = c.req.param("id");
    const activation = (await readForm(c)).activation?.trim() ?? "";
    if (!activation) {
      await resetLicense({ ctx, input: { id, changes: {} } });
      return redirectDone(c, licensePath(id), "freed-all");
    }
    // The licence first: then "not found" from the reset is about the machine, freed meanwhile
    // (by the app, the buyer or another tab).
    await getLicense({ ctx, input: { id } });
    try {
      await resetLicense({ ctx, input: { id, changes: { activation } } });
    } catch (error) {
      if (isAppError(error) && error.code === "not_found")
        return redirectDone(c, licensePath(id), "already-free");
      throw error;
    }
    return redirectDone(c, licensePath(id), "freed");
  })
  .post("/admin/licenses/:id/revoke", async (c) => {
    const reason = (await readForm(c)).reason?.trim();
    const license = await revokeLicense({
      ctx: c.get("ctx"),
      input: { id: c.req.param("id"), ...(reason ? { reason } : {}) },
    });
    return redirectDone(c, licensePath(license.id), "revoked");
  });

const licensePath = (id: string) => `/admin/licenses/${encodeURIComponent(id)}`;

/** Empty means the product's limit again; otherwise a whole number of machines. */
function parseLimit(text: string): number | null {
  const typed = text.trim();
  if (!typed) return null;
  const limit = Number(typed);
  if (!/^\d+$/.test(typed) || limit < 1 || limit > MAX_LIMIT)
    throw invalidInput(
      `Machines: a whole number from 1 to ${MAX_LIMIT}, or empty for the product's limit.`,
    );
  return limit;
}

async function licensePage(
  c: Context<HonoEnv>,
  license: SellerLicense,
  rejected: { value: string; message: string } | null,
  status: 200 | 400 = 200,
) {
  const product = await getProductForAdmin({
    ctx: c.get("ctx"),
    input: { slug: license.product.slug },
  });
  const own = license.ownLimit && license.activationLimit !== null;
  return c.html(
    <LicensePage
      {...pageProps(c)}
      notice={rejected ? null : noticeFor(c, NOTICES)}
      license={license}
      productLimit={product.license_activation_limit}
      limitValue={rejected?.value ?? (own ? String(license.activationLimit) : "")}
      limitError={rejected?.message ?? null}
    />,
    status,
  );
}
