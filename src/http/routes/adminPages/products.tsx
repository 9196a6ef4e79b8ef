import { type Context, Hono } from "hono";
import type { LibraryItem } from "../../../core/access/library.ts";
import {
  deliveredFileCounts,
  findAsset,
  listAssets,
  setAssetActive,
} from "../../../core/catalog/assets.ts";
import { removeProductCover, setProductCover } from "../../../core/catalog/cover.ts";
import { MAX_PAST_DUE_DAYS } from "../../../core/catalog/grace.ts";
import {
  createProduct,
  getProductForAdmin,
  listProducts,
  updateProduct,
} from "../../../core/catalog/products.ts";
import { productReadiness, publishProduct } from "../../../core/catalog/publish.ts";
import type { CreateProductInput } from "../../../core/catalog/schemas.ts";
import { downloadAsSeller } from "../../../core/downloads/downloadAsSeller.ts";
import { AppError, invalidInput, notFound } from "../../../core/errors.ts";
import { MAX_PUBLIC_IMAGE_BYTES } from "../../../core/images/publicImages.ts";
import type { Product } from "../../../db/schema.ts";
import { type GraceFormValues, graceFormValues } from "../../../pages/admin/graceSettings.tsx";
import {
  EditProductPage,
  type LicenseFormValues,
  NewProductPage,
  type ProductFormValues,
  ProductsPage,
} from "../../../pages/admin/products.tsx";
import { LibraryPage } from "../../../pages/buyer.tsx";
import { fromMinorUnits, toMinorUnits } from "../../../pages/format.ts";
import { deliveryRequest, deliveryResponse } from "../../delivery.ts";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

/** The form sends text; the product schema checks it is one of the intervals. */
type Interval = NonNullable<CreateProductInput["interval"]>;

const NOTICES = {
  created: "Product created as a draft. Upload its files below, then publish it when it is ready.",
  saved: "Changes saved.",
  published: "Published: the product is in the store.",
  unpublished: "Unpublished: it is gone from the store; people who own it keep their files.",
  uploaded: "File uploaded. Buyers of this product get it from now on.",
  "uploaded-many": "Files uploaded. Buyers of this product get them from now on.",
  "cover-saved": "Cover saved: the store, the product page and buyers' libraries show it.",
  "cover-removed": "Cover removed: the product is shown without a picture.",
  retired: "File retired: buyers no longer see or download it.",
  restored: "File restored: buyers see it again.",
  "license-saved": "Licence settings saved.",
  "license-on":
    "Licence keys on: every purchase comes with a key, and everyone who owns the product now has one.",
  "license-off": "Licence keys off: new purchases get no key; keys already issued keep working.",
  "grace-saved": "Grace policy saved: it applies to every payment event from now on.",
  "download-limit-saved": "Download limit saved: it applies to every download from now on.",
  "stamping-saved":
    "PDF stamping saved: it applies to every download from now on (copies are made as buyers ask).",
};

const NEW_PRODUCT: ProductFormValues = {
  slug: "",
  name: "",
  description: "",
  kind: "one_time",
  price: "",
  currency: "usd",
  interval: "month",
  stripePriceId: "",
  published: false,
  pwyw: false,
  pwywMinimum: "",
  pwywSuggested: "",
  listPrice: "",
  taxCode: "",
};

export const productPages = new Hono<HonoEnv>()
  .get("/admin/products", async (c) => {
    const ctx = c.get("ctx");
    const [products, files] = await Promise.all([
      listProducts({ ctx, input: { includeUnpublished: true } }),
      deliveredFileCounts(ctx),
    ]);
    return c.html(
      <ProductsPage
        {...pageProps(c)}
        notice={noticeFor(c, NOTICES)}
        products={products.map((product) => ({ product, files: files.get(product.id) ?? 0 }))}
      />,
    );
  })
  .get("/admin/products/new", (c) =>
    c.html(<NewProductPage {...pageProps(c)} values={NEW_PRODUCT} />),
  )
  .post("/admin/products", async (c) => {
    const form = await readForm(c);
    const values: ProductFormValues = {
      ...NEW_PRODUCT,
      ...form,
      published: false,
      pwyw: form.pwyw === "on",
    };
    const created = await attempt(() =>
      createProduct({
        ctx: c.get("ctx"),
        input: {
          slug: values.slug,
          name: values.name,
          description: values.description,
          kind: values.kind as CreateProductInput["kind"],
          ...priceInput(values),
          ...(values.kind === "subscription" ? { interval: values.interval as Interval } : {}),
          ...(values.stripePriceId.trim() ? { stripePriceId: values.stripePriceId.trim() } : {}),
          ...pricingInput(values),
          // A draft until the seller publishes it, which checks it can be delivered.
          active: false,
        },
      }),
    );
    if (!created.ok)
      return c.html(
        <NewProductPage {...pageProps(c)} values={values} error={created.message} />,
        400,
      );
    return redirectDone(c, `/admin/products/${created.value.slug}`, "created");
  })
  .get("/admin/products/:slug", async (c) => {
    const product = await getProductForAdmin({
      ctx: c.get("ctx"),
      input: { slug: c.req.param("slug") },
    });
    return editPage(c, product, formValues(product), null, 200);
  })
  .post("/admin/products/:slug", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const form = await readForm(c);
    const values: ProductFormValues = {
      ...formValues(product),
      ...form,
      currency: product.currency,
      // An unticked box is absent from the form; a free product's form has none.
      pwyw: product.kind === "free" ? false : form.pwyw === "on",
    };
    // "Preview description": the page again with the typed values and the rendered description.
    if (form.intent === "preview")
      return editPage(c, product, values, null, 200, { preview: true });
    const saved = await attempt(() =>
      updateProduct({
        ctx,
        input: {
          slug: product.slug,
          changes: {
            name: values.name,
            description: values.description,
            ...(product.kind === "free" ? {} : priceInput({ ...values, kind: product.kind })),
            ...(product.kind === "subscription" ? { interval: values.interval as Interval } : {}),
            stripePriceId: values.stripePriceId.trim() || null,
            ...pricingInput({ ...values, kind: product.kind }),
          },
        },
      }),
    );
    if (!saved.ok) return editPage(c, product, values, saved.message, 400);
    return redirectDone(c, `/admin/products/${product.slug}`, "saved");
  })
  .post("/admin/products/:slug/cover", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const refused = (error: AppError) =>
      editPage(c, product, formValues(product), null, error.code === "too_large" ? 413 : 400, {
        coverError: error.message,
      });
    // The image and the form's few bytes around it; a larger body is not read at all.
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_PUBLIC_IMAGE_BYTES + 16 * 1024)
      return refused(
        new AppError("too_large", "The image is larger than 2 MB. Save it smaller and try again."),
      );
    const file = await c.req
      .formData()
      .then((form) => form.get("cover"))
      .catch(() => null);
    try {
      if (!(file instanceof File) || file.size === 0)
        throw invalidInput("Choose an image file for the cover.");
      await setProductCover({
        ctx,
        input: { slug: product.slug, body: new Uint8Array(await file.arrayBuffer()) },
      });
    } catch (error) {
      if (
        error instanceof AppError &&
        (error.code === "invalid_input" || error.code === "too_large")
      )
        return refused(error);
      throw error;
    }
    return redirectDone(c, `/admin/products/${product.slug}`, "cover-saved");
  })
  .post("/admin/products/:slug/cover/remove", async (c) => {
    const product = await removeProductCover({
      ctx: c.get("ctx"),
      input: { slug: c.req.param("slug") },
    });
    return redirectDone(c, `/admin/products/${product.slug}`, "cover-removed");
  })
  .post("/admin/products/:slug/license", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const form = await readForm(c);
    const license: LicenseFormValues = {
      enabled: form.enabled === "true",
      activationLimit: form.activationLimit ?? "",
      expires: form.expires === "never" ? "never" : "with-access",
    };
    const saved = await attempt(() =>
      updateProduct({
        ctx,
        input: {
          slug: product.slug,
          changes: {
            license: {
              enabled: license.enabled,
              activationLimit: parseActivationLimit(license.activationLimit),
              expiresWithAccess: license.expires === "with-access",
            },
          },
        },
      }),
    );
    if (!saved.ok)
      return editPage(c, product, formValues(product), null, 400, {
        license: { values: license, error: saved.message },
      });
    const was = product.license_enabled === 1;
    const done =
      license.enabled === was ? "license-saved" : license.enabled ? "license-on" : "license-off";
    return redirectDone(c, `/admin/products/${product.slug}`, done);
  })
  .post("/admin/products/:slug/grace", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const form = await readForm(c);
    const grace: GraceFormValues = {
      pastDueDays: (form.pastDueDays ?? "").trim(),
      refund: form.refund === "revokes" || form.refund === "keeps" ? form.refund : "shop",
      dispute: form.dispute === "keeps" ? "keeps" : "suspends",
    };
    const days = /^\d{1,3}$/.test(grace.pastDueDays) ? Number(grace.pastDueDays) : -1;
    const saved =
      days >= 0 && days <= MAX_PAST_DUE_DAYS
        ? await attempt(() =>
            updateProduct({
              ctx,
              input: {
                slug: product.slug,
                changes: {
                  grace: {
                    pastDueDays: days,
                    refundRevokes: grace.refund === "shop" ? null : grace.refund === "revokes",
                    disputeSuspends: grace.dispute === "suspends",
                  },
                },
              },
            }),
          )
        : ({
            ok: false,
            message: `Days of access after a failed payment: use a whole number from 0 to ${MAX_PAST_DUE_DAYS}.`,
          } as const);
    if (!saved.ok)
      return editPage(c, product, formValues(product), null, 400, {
        grace: { values: grace, error: saved.message },
      });
    return redirectDone(c, `/admin/products/${product.slug}`, "grace-saved");
  })
  .post("/admin/products/:slug/publish", async (c) => {
    const ctx = c.get("ctx");
    const slug = c.req.param("slug");
    const published = (await readForm(c)).published === "true";
    const done = await attempt(() =>
      published
        ? publishProduct({ ctx, input: { slug } })
        : updateProduct({ ctx, input: { slug, changes: { active: false } } }),
    );
    if (!done.ok) {
      const product = await getProductForAdmin({ ctx, input: { slug } });
      return editPage(c, product, formValues(product), null, 409, { publishError: done.message });
    }
    return redirectDone(
      c,
      `/admin/products/${done.value.slug}`,
      published ? "published" : "unpublished",
    );
  })
  .get("/admin/products/:slug/preview", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const files = await listAssets(ctx, product.id, { activeOnly: true });
    const item: LibraryItem = {
      product: { ...product, coverImage: product.cover_image },
      entitlement: { id: "preview", source: "purchase", endsAt: null },
      files: files.map((a) => ({
        ...a,
        downloadUrl: `/admin/products/${product.slug}/files/${a.id}`,
        lastDownloadedAt: null,
      })),
    };
    return c.html(
      <LibraryPage
        {...pageProps(c)}
        items={[item]}
        previewOf={{ editUrl: `/admin/products/${product.slug}` }}
      />,
    );
  })
  .get("/admin/products/:slug/files/:assetId", async (c) => {
    const delivery = await downloadAsSeller({
      ctx: c.get("ctx"),
      input: {
        slug: c.req.param("slug"),
        assetId: c.req.param("assetId"),
        request: deliveryRequest(c),
      },
    });
    return deliveryResponse(c, delivery);
  })
  .post("/admin/products/:slug/files/:assetId", async (c) => {
    const ctx = c.get("ctx");
    const product = await getProductForAdmin({ ctx, input: { slug: c.req.param("slug") } });
    const asset = await findAsset(ctx, c.req.param("assetId"));
    if (asset?.product_id !== product.id) throw notFound("This product has no such file.");
    const active = (await readForm(c)).active === "true";
    await setAssetActive({ ctx, input: { assetId: asset.id, active } });
    return redirectDone(c, `/admin/products/${product.slug}`, active ? "restored" : "retired");
  });

async function editPage(
  c: Context<HonoEnv>,
  product: Product,
  values: ProductFormValues,
  error: string | null,
  status: 200 | 400 | 409 | 413,
  refused: {
    license?: { values: LicenseFormValues; error: string };
    grace?: { values: GraceFormValues; error: string };
    publishError?: string;
    coverError?: string;
    /** Show the typed description rendered, unsaved. */
    preview?: boolean;
  } = {},
) {
  const { license: rejectedLicense, grace: rejectedGrace, publishError, coverError } = refused;
  const ctx = c.get("ctx");
  const [assets, readiness] = await Promise.all([
    listAssets(ctx, product.id, { activeOnly: false }),
    productReadiness(ctx, product),
  ]);
  return c.html(
    <EditProductPage
      {...pageProps(c)}
      notice={
        error || rejectedLicense || rejectedGrace || publishError || coverError || refused.preview
          ? null
          : noticeFor(c, NOTICES)
      }
      product={product}
      assets={assets}
      readiness={readiness}
      publishError={publishError ?? null}
      values={values}
      error={error}
      license={rejectedLicense?.values ?? licenseValues(product)}
      licenseError={rejectedLicense?.error ?? null}
      grace={rejectedGrace?.values ?? graceFormValues(product)}
      graceError={rejectedGrace?.error ?? null}
      shopRefundRevokes={ctx.settings.refundRevokesAccess}
      maxUploadBytes={ctx.settings.maxUploadBytes}
      coverError={coverError ?? null}
      preview={refused.preview ?? false}
    />,
    status,
  );
}

function formValues(p: Product): ProductFormValues {
  return {
    slug: p.slug,
    name: p.name,
    description: p.description,
    kind: p.kind,
    price: p.kind === "free" ? "" : fromMinorUnits(p.price_amount, p.currency),
    currency: p.currency,
    interval: p.interval ?? "month",
    stripePriceId: p.stripe_price_id ?? "",
    published: p.active === 1,
    pwyw: p.pwyw_minimum !== null,
    pwywMinimum: p.pwyw_minimum === null ? "" : fromMinorUnits(p.pwyw_minimum, p.currency),
    pwywSuggested: p.pwyw_suggested === null ? "" : fromMinorUnits(p.pwyw_suggested, p.currency),
    listPrice: p.list_price === null ? "" : fromMinorUnits(p.list_price, p.currency),
    taxCode: p.tax_code ?? "",
  };
}

function licenseValues(p: Product): LicenseFormValues {
  return {
    enabled: p.license_enabled === 1,
    activationLimit: p.license_activation_limit === null ? "" : String(p.license_activation_limit),
    expires: p.license_expires_with_access === 1 ? "with-access" : "never",
  };
}

/** Empty means no limit; otherwise a whole number of machines. */
function parseActivationLimit(text: string): number | null {
  const typed = text.trim();
  if (!typed) return null;
  const limit = Number(typed);
  if (!/^\d+$/.test(typed) || limit < 1 || limit > 100_000)
    throw invalidInput(
      "Activation limit: a whole number of machines from 1 to 100000, or empty for no limit.",
    );
  return limit;
}

/**
 * Pay what you want, the list price and the tax code as the product schema takes them (decision
 * 0029): amounts typed in major units become minor units, empty means none. Whether they make
 * sense together (a minimum on a subscription, a list price below the price) is checkPricing's.
 */
function pricingInput(values: ProductFormValues) {
  if (values.kind === "free") return {};
  const currency = values.currency.trim().toLowerCase();
  const amount = (label: string, text: string) => {
    const minor = toMinorUnits(text, currency);
    if (minor === null)
      throw invalidInput(
        `${label}: write an amount such as 19.00 (in ${currency.toUpperCase() || "the currency"}).`,
      );
    return minor;
  };
  const suggested = values.pwywSuggested.trim();
  if (values.pwyw && !values.pwywMinimum.trim())
    throw invalidInput("Pay what you want: give the minimum a buyer may pay.");
  return {
    taxCode: values.taxCode.trim() || null,
    listPrice: values.listPrice.trim() ? amount("List price", values.listPrice) : null,
    ...(values.kind === "one_time" || values.pwyw
      ? {
          payWhatYouWant: values.pwyw
            ? {
                minimum: amount("Minimum", values.pwywMinimum),
                ...(suggested ? { suggested: amount("Suggested amount", suggested) } : {}),
              }
            : null,
        }
      : {}),
  };
}

/** The typed price as the product schema's minor units; a free product has none. */
function priceInput(values: ProductFormValues) {
  const currency = values.currency.trim().toLowerCase();
  if (values.kind === "free") {
    if (values.price.trim()) throw invalidInput("Price: a free product has none; leave it empty.");
    return {};
  }
  if (!values.price.trim()) throw invalidInput("Price: is required for a paid product.");
  const amount = toMinorUnits(values.price, currency);
  if (amount === null)
    throw invalidInput(
      `Price: write an amount such as 19.00 (in ${currency.toUpperCase() || "the currency"}).`,
    );
  return { price: { amount, currency } };
}
