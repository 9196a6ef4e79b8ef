import { type Context, Hono } from "hono";
import { listAssets } from "../../../core/catalog/assets.ts";
import { listProducts } from "../../../core/catalog/products.ts";
import type { Ctx } from "../../../core/context.ts";
import { listTokens, revokeToken } from "../../../core/delivery/tokenAdmin.ts";
import { createDownloadToken } from "../../../core/delivery/tokens.ts";
import { AppError, invalidInput } from "../../../core/errors.ts";
import { parseInput } from "../../../core/validate.ts";
import * as z from "../../../core/zod.ts";
import {
  type CreatedLink,
  type TokenFormValues,
  TokensPage,
} from "../../../pages/admin/tokens.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { parseEmail } from "./fields.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const NOTICES = { revoked: "Link revoked: it no longer downloads anything." };
const RECENT = 100;

const listQuery = z.object({ email: z._default(z.string().check(z.trim(), z.maxLength(254)), "") });

export const tokenPages = new Hono<HonoEnv>()
  .get("/admin/tokens", async (c) => {
    const { email } = parseInput(listQuery, c.req.query());
    return tokensPage(c, { email, values: emptyForm(c.get("ctx")) });
  })
  .post("/admin/tokens", async (c) => {
    const ctx = c.get("ctx");
    const form = await readForm(c);
    const values: TokenFormValues = { ...emptyForm(ctx), ...pick(form) };
    const catalog = await productsWithFiles(ctx);
    const created = await attempt(async (): Promise<CreatedLink> => {
      const email = parseEmail(values.email);
      const entry = catalog.find((p) => p.product.slug === values.product);
      if (!entry) throw invalidInput("Product: choose the product the link is for.");
      const { product, files } = entry;
      const file = values.file ? files.find((a) => a.id === values.file) : undefined;
      if (values.file && !file)
        throw invalidInput(
          `File: that file is not one of ${product.name}'s. Choose one of its files, or all of them.`,
        );
      const maxUses = parseMaxUses(values.maxUses);
      try {
        const link = await createDownloadToken({
          ctx,
          input: {
            email,
            productId: product.id,
            ...(file ? { assetId: file.id } : {}),
            expiresIn: values.expiresIn.trim(),
            ...(maxUses === undefined ? {} : { maxUses }),
          },
        });
        return {
          url: link.url,
          email,
          productName: product.name,
          filename: file?.filename ?? null,
          expiresAt: link.expiresAt,
          maxUses: link.maxUses,
        };
      } catch (error) {
        if (error instanceof AppError && error.code === "forbidden")
          throw invalidInput(
            `${email} has no active access to ${product.name}, so the link would not work. Give access on the Customers page first.`,
          );
        throw error;
      }
    });
    if (!created.ok)
      return tokensPage(c, { email: "", values, error: created.message, catalog }, 400);
    return tokensPage(c, { email: "", values: emptyForm(ctx), created: created.value, catalog });
  })
  .post("/admin/tokens/:id/revoke", async (c) => {
    const form = await readForm(c);
    await revokeToken({ ctx: c.get("ctx"), input: { tokenId: c.req.param("id") } });
    const email = form.email?.trim();
    return redirectDone(
      c,
      email ? `/admin/tokens?email=${encodeURIComponent(email)}` : "/admin/tokens",
      "revoked",
    );
  });

function pick(form: Record<string, string>): Partial<TokenFormValues> {
  const fields = ["email", "product", "file", "expiresIn", "maxUses"] as const;
  return Object.fromEntries(fields.filter((f) => f in form).map((f) => [f, form[f]]));
}

function emptyForm(ctx: Ctx): TokenFormValues {
  return {
    email: "",
    product: "",
    file: "",
    expiresIn: durationText(ctx.settings.delivery.tokenTtlSeconds),
    maxUses: "",
  };
}

/** Empty means the shop's default; otherwise a whole number of downloads. */
function parseMaxUses(text: string): number | undefined {
  if (!text.trim()) return undefined;
  const uses = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || uses < 1 || uses > 1_000_000)
    throw invalidInput("Maximum downloads: a whole number from 1 to 1000000, or empty.");
  return uses;
}

/** 86400 -> "24h"; 604800 -> "7d": how a seller would type it. */
function durationText(seconds: number): string {
  if (seconds % 86400 === 0 && seconds > 86400) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

async function productsWithFiles(ctx: Ctx) {
  const products = await listProducts({ ctx, input: { includeUnpublished: true } });
  return Promise.all(
    products.map(async (product) => ({
      product,
      files: await listAssets(ctx, product.id, { activeOnly: true }),
    })),
  );
}

async function tokensPage(
  c: Context<HonoEnv>,
  view: {
    email: string;
    values: TokenFormValues;
    error?: string;
    created?: CreatedLink;
    catalog?: Awaited<ReturnType<typeof productsWithFiles>>;
  },
  status: 200 | 400 = 200,
) {
  const ctx = c.get("ctx");
  const [products, tokens] = await Promise.all([
    view.catalog ?? productsWithFiles(ctx),
    listTokens({ ctx, input: { limit: RECENT, ...(view.email ? { email: view.email } : {}) } }),
  ]);
  if (view.created) c.header("Referrer-Policy", "no-referrer");
  return c.html(
    <TokensPage
      {...pageProps(c)}
      notice={view.error || view.created ? null : noticeFor(c, NOTICES)}
      products={products}
      tokens={tokens}
      values={view.values}
      defaultMaxUses={ctx.settings.delivery.tokenMaxUses}
      email={view.email}
      created={view.created ?? null}
      error={view.error ?? null}
    />,
    status,
  );
}
