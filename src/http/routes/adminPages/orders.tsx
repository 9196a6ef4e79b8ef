import { type Context, Hono } from "hono";
import { orderDownloads } from "../../../core/downloads/resetDownloads.ts";
import { invalidInput } from "../../../core/errors.ts";
import { licensesOfEntitlements } from "../../../core/licenses/sellerLicenses.ts";
import { correctionsOfOrder } from "../../../core/orders/emailCorrections.ts";
import { countUnfinishedCheckouts, listOrdersWithNames } from "../../../core/orders/listOrders.ts";
import { orderDetails } from "../../../core/orders/orderDetails.ts";
import { orderIdStart } from "../../../core/orders/reference.ts";
import { refundOrder } from "../../../core/orders/refundOrder.ts";
import { reopenOrder, reopenRefusal } from "../../../core/orders/reopenOrder.ts";
import { resendReceipt } from "../../../core/orders/resendReceipt.ts";
import { parseInput } from "../../../core/validate.ts";
import * as z from "../../../core/zod.ts";
import { filterQuery, ORDER_FILTERS, OrderPage, OrdersPage } from "../../../pages/admin/orders.tsx";
import type { HonoEnv } from "../../env.ts";
import { pageProps } from "../../pageProps.ts";
import { attempt, noticeFor, readForm, redirectDone } from "./forms.ts";

const NOTICES = {
  "refund-requested":
    "Refund requested; access ends when Stripe confirms it (usually seconds). Reload to see the order refunded.",
  "receipt-sent": "Receipt sent again, with a fresh download link.",
  "downloads-reset":
    "Downloads reset: the buyer may download each file again as often as the product allows.",
  reopened: "Access re-opened, and a fresh download link is on its way to the buyer.",
  "reopened-unmailed":
    "Access re-opened, but the mail with the fresh link could not be sent: check the mail settings, then resend the receipt.",
};

/** Once Stripe has confirmed the refund, the page says so rather than asking for a reload. */
const noticesFor = (status: string) =>
  status === "refunded"
    ? {
        ...NOTICES,
        "refund-requested": "Refunded: Stripe has confirmed it.",
      }
    : NOTICES;

const FILTERS = Object.keys(ORDER_FILTERS) as (keyof typeof ORDER_FILTERS)[];
const UNFINISHED_DAYS = 30;

const ordersQuery = z.object({
  status: z._default(
    z.enum(["", ...FILTERS], { error: `must be one of ${FILTERS.join(", ")}` }),
    "",
  ),
  email: z._default(z.string().check(z.trim(), z.maxLength(254)), ""),
  before: z.optional(z.string().check(z.maxLength(100))),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
});

export const orderPages = new Hono<HonoEnv>()
  .get("/admin/orders", async (c) => {
    const ctx = c.get("ctx");
    const query = parseInput(ordersQuery, c.req.query());
    const filters = { status: query.status, email: query.email };
    // One box finds a customer by email or an order by the reference on its receipt.
    const reference = query.email.includes("@") ? null : orderIdStart(query.email);
    const email = reference
      ? { reference: query.email }
      : query.email
        ? { email: query.email }
        : {};
    // Checkouts never completed are left out unless asked for: they are no sale, and a guest's
    // has no customer yet.
    const which =
      query.status === "unfinished"
        ? { checkout: "unfinished" as const }
        : { checkout: "completed" as const, ...(query.status ? { status: query.status } : {}) };
    const [rows, unfinished] = await Promise.all([
      listOrdersWithNames({
        ctx,
        input: {
          limit: query.limit + 1,
          ...which,
          ...email,
          ...(query.before ? { before: query.before } : {}),
        },
      }),
      query.status
        ? 0
        : countUnfinishedCheckouts({
            ctx,
            input: {
              sinceMs: ctx.clock.now() - UNFINISHED_DAYS * 86_400_000,
              ...(reference ? {} : email),
            },
          }),
    ]);
    const orders = rows.slice(0, query.limit);
    const last = orders.at(-1);
    return c.html(
      <OrdersPage
        {...pageProps(c)}
        orders={orders}
        filters={filters}
        unfinished={{ count: unfinished, days: UNFINISHED_DAYS }}
        firstPage={!query.before}
        olderHref={
          rows.length > query.limit && last
            ? `/admin/orders${filterQuery(filters, { before: last.id })}`
            : null
        }
      />,
    );
  })
  .get("/admin/orders/:id", (c) => orderPage(c, c.req.param("id"), null))
  .post("/admin/orders/:id/refund", async (c) => {
    const orderId = c.req.param("id");
    const refunded = await attempt(() => refundOrder({ ctx: c.get("ctx"), input: { orderId } }));
    if (!refunded.ok) return orderPage(c, orderId, refunded.message);
    return redirectDone(c, `/admin/orders/${orderId}`, "refund-requested");
  })
  .post("/admin/orders/:id/resend-receipt", async (c) => {
    const orderId = c.req.param("id");
    const sent = await attempt(() => resendReceipt({ ctx: c.get("ctx"), input: { orderId } }));
    if (!sent.ok) return orderPage(c, orderId, sent.message);
    return redirectDone(c, `/admin/orders/${orderId}`, "receipt-sent");
  })
  .post("/admin/orders/:id/reopen", async (c) => {
    const orderId = c.req.param("id");
    const { days = "" } = await readForm(c);
    const reopened = await attempt(() => {
      if (!/^\s*\d{1,3}\s*$/.test(days) || Number(days) < 1 || Number(days) > 365)
        throw invalidInput("Days: give a whole number of days from 1 to 365.");
      return reopenOrder({ ctx: c.get("ctx"), input: { order: orderId, for: `${Number(days)}d` } });
    });
    if (!reopened.ok) return orderPage(c, orderId, reopened.message, days);
    const done = reopened.value.mailed ? "reopened" : "reopened-unmailed";
    return redirectDone(c, `/admin/orders/${orderId}`, done);
  });

async function orderPage(
  c: Context<HonoEnv>,
  orderId: string,
  error: string | null,
  reopenDays = "7",
) {
  const ctx = c.get("ctx");
  const details = await orderDetails({ ctx, input: { orderId } });
  const licenses = await licensesOfEntitlements(
    ctx,
    details.entitlements.map((e) => e.id),
  );
  return c.html(
    <OrderPage
      {...pageProps(c)}
      licenses={licenses}
      notice={error ? null : noticeFor(c, noticesFor(details.order.status))}
      details={details}
      error={error}
      downloads={await orderDownloads({ ctx, input: { orderId: details.order.id } })}
      corrections={await correctionsOfOrder(ctx, details.order.id)}
      reopen={
        reopenRefusal(details.order, details.entitlements[0] ?? null, ctx.clock.now()) === null
          ? { days: reopenDays }
          : null
      }
    />,
    error ? 400 : 200,
  );
}
