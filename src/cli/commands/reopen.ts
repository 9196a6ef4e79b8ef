import { reopenOrder } from "../../core/orders/reopenOrder.ts";
import { readShopProfile } from "../../core/shop/profile.ts";
import { formatDate } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";

/** `tollgate reopen {order} --for 7d`: the order's ended access works again, a fresh link mailed. */
export function reopen(order: string, opts: { for: string; json?: boolean }) {
  return withRuntime(
    async ({ systemCtx: ctx }) => {
      const reopened = await reopenOrder({ ctx, input: { order, for: opts.for } });
      if (opts.json)
        return console.log(
          JSON.stringify({ ...reopened, until: new Date(reopened.until).toISOString() }, null, 2),
        );
      const { timeZone } = await readShopProfile(ctx);
      console.log(
        `Re-opened order ${reopened.reference} until ${formatDate(reopened.until, timeZone)}.`,
      );
      if (reopened.mailed) console.log(`A fresh download link was mailed to ${reopened.mailedTo}.`);
      else {
        console.error(
          `The mail to ${reopened.mailedTo} could not be sent: check the mail settings (tollgate doctor), then resend the receipt from the order's page.`,
        );
        process.exitCode = 1;
      }
    },
    { printsLinks: true },
  );
}
