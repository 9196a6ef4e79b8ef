import { type Context, Hono } from "hono";
import { customerAccessHistories } from "../../../core/access/accessHistory.ts";
import { listEntitlements, revokeEntitlement } from "../../../core/access/entitlements.ts";
import { grantAsSeller } from "../../../core/access/grantAsSeller.ts";
import { listProducts } from "../../../core/catalog/products.ts";
import { normalizeEmail } from "../../../core/context.ts";
import { invalidInput, isAppError } from "../../../core/errors.ts";
import { listLicenses } from "../../../core/licenses/sellerLicenses.ts";
import { listOrdersWithNames } from "../../../core/orders/listOrders.ts";
import { resendReceipt } from "../../../core/orders/resendReceipt.ts";
import { parseInput } from "../../../core/validate.ts";
import * as z from "../../../core/zod.ts";
import { CustomersPage, type GrantValues } from "../../../pages/admin/customers.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { NOT_AN_EMAIL } from "./fields.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const NOTICES = {
  granted: "Access granted: the product is in the customer's library when they sign in.",
  revoked: "Access revoked: the customer's downloads and links for it stop at once.",
  "receipt-sent": "Receipt sent again, with a fresh download link.",
};

const RECENT = 100;

const searchQuery = z.object({
  email: z._default(z.string().check(z.trim(), z.maxLength(254)), ""),
});

export const customerPages = new Hono<HonoEnv>()
  .get("/admin/customers", async (c) => {
    const { email } = parseInput(searchQuery, c.req.query());
    return customersPage(c, { email, grant: { email, product: "" } });
  })
  .post("/admin/customers/grant", async (c) => {
    const ctx = c.get("ctx");
    const form = await readForm(c);
    const values: GrantValues = { email: form.email ?? "", product: form.product ?? "" };
    const granted = await attempt(() =>
      grantAsSeller({ ctx, input: values }).catch((error: unknown) => {
        throw inFormWords(error);
      }),
    );
    if (!granted.ok)
      return customersPage(c, { email: "", grant: values, error: granted.message }, 400);
    return redirectDone(c, customersPath(granted.value.email ?? ""), "granted");
  })
  .post("/admin/customers/revoke", async (c) => {
    const form = await readForm(c);
    await revokeEntitlement({
      ctx: c.get("ctx"),
      input: {
        entitlementId: form.entitlement ?? "",
        ...(form.reason?.trim() ? { reason: form.reason.trim() } : {}),
      },
    });
    return redirectDone(c, customersPath(form.email ?? ""), "revoked");
  })
  .post("/admin/customers/resend-receipt", async (c) => {
    const form = await readForm(c);
    const back = form.email ?? "";
    const sent = await attempt(() =>
      resendReceipt({ ctx: c.get("ctx"), input: { orderId: form.order ?? "" } }),
    );
    if (!sent.ok)
      return customersPage(
        c,
        { email: back, grant: { email: back, product: "" }, actionError: sent.message },
        400,
      );
    return redirectDone(c, customersPath(back), "receipt-sent");
  });

/**
 * The grant form's words for what the seller can fix: the email (parseInput names it first),
 * else the product, missing or unknown.
 */
function inFormWords(error: unknown): unknown {
  if (!isAppError(error) || (error.code !== "invalid_input" && error.code !== "not_found"))
    return error;
  return invalidInput(
    error.message.startsWith("email:") ? NOT_AN_EMAIL : "Choose the product to give.",
  );
}

const customersPath = (email: string) =>
  email ? `/admin/customers?email=${encodeURIComponent(email)}` : "/admin/customers";

async function customersPage(
  c: Context<HonoEnv>,
  view: { email: string; grant: GrantValues; error?: string | null; actionError?: string | null },
  status: 200 | 400 = 200,
) {
  const ctx = c.get("ctx");
  const email = view.email ? normalizeEmail(view.email) : "";
  const [products, entitlements, orders, licenses, access] = await Promise.all([
    listProducts({ ctx, input: { includeUnpublished: true } }),
    listEntitlements({ ctx, input: email ? { email } : { limit: RECENT } }),
    email ? listOrdersWithNames({ ctx, input: { email, limit: 50 } }) : [],
    email ? listLicenses({ ctx, input: { email, limit: 100 } }) : [],
    email ? customerAccessHistories({ ctx, input: { email } }) : [],
  ]);
  return c.html(
    <CustomersPage
      {...pageProps(c)}
      notice={view.error || view.actionError ? null : noticeFor(c, NOTICES)}
      email={email}
      products={products}
      entitlements={entitlements}
      orders={orders}
      licenses={licenses}
      access={access}
      grant={view.grant}
      error={view.error ?? null}
      actionError={view.actionError ?? null}
    />,
    status,
  );
}
