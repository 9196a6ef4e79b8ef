import type { Ctx } from "../core/context.ts";
import { listOrders } from "../core/orders/listOrders.ts";
import { ordersCsv } from "../pages/admin/ordersCsv.ts";

const PAGE = 1000;

/**
 * Every completed order as CSV, read a page at a time as the client takes the text: an export of
 * a shop's whole history never sits in memory at once.
 */
export function ordersCsvStream(ctx: Ctx): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: string | undefined;
  let first = true;
  return new ReadableStream({
    async pull(controller) {
      const orders = await listOrders({
        ctx,
        input: { limit: PAGE, checkout: "completed", ...(before ? { before } : {}) },
      });
      const text = ordersCsv(orders, { header: first });
      first = false;
      if (text) controller.enqueue(encoder.encode(text));
      before = orders.at(-1)?.id;
      if (orders.length < PAGE) controller.close();
    },
  });
}
