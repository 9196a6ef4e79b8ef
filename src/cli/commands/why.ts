import { accessHistory, describeBy } from "../../core/access/accessHistory.ts";
import { readShopProfile } from "../../core/shop/profile.ts";
import { formatDate } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";
import { printTable } from "./products.ts";

/** `tollgate why {email} {slug}`: the sentence, then the history (when, what, who, why). */
export function why(email: string, slug: string, opts: { json?: boolean }) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const explained = await accessHistory({ ctx, input: { email, product: slug } });
    if (opts.json) return console.log(JSON.stringify(explained, null, 2));
    console.log(explained.sentence);
    if (!explained.history.length) return;
    const { timeZone } = await readShopProfile(ctx);
    console.log("");
    printTable(
      ["WHEN", "WHAT", "WHO", "WHY"],
      explained.history.map((e) => [
        formatDate(Date.parse(e.at), timeZone),
        e.change,
        describeBy(e.by),
        e.reason ?? "",
      ]),
    );
  });
}
