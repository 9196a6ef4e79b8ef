import { readFile } from "node:fs/promises";
import { isoTime } from "../../core/encoding.ts";
import { readShopProfile } from "../../core/shop/profile.ts";
import { traceCopy } from "../../core/stamping/stamps.ts";
import { formatDate } from "../../pages/format.ts";
import { withRuntime } from "../run.ts";

/**
 * `tollgate trace {file.pdf}`: whose stamped copy a leaked PDF is (decision 0026). Reads the
 * trace id the copy carries and prints the order, the buyer's email, the product and the date.
 */
export function trace(file: string, opts: { json?: boolean }) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const pdf = new Uint8Array(await readFile(file));
    const found = await traceCopy({ ctx, input: { pdf } });
    if (opts.json)
      return console.log(
        JSON.stringify(
          {
            ...found,
            purchasedAt: isoTime(found.purchasedAt),
            stampedAt: isoTime(found.stampedAt),
          },
          null,
          2,
        ),
      );
    const { timeZone } = await readShopProfile(ctx);
    const when = (ms: number | null) => (ms === null ? "unknown" : formatDate(ms, timeZone));
    console.log(`${file} is the copy stamped for ${found.email ?? "an unknown buyer"}.`);
    console.log(`  order:    ${found.orderReference ?? "none (a grant or a free claim)"}`);
    console.log(`  email:    ${found.email ?? "unknown"}`);
    console.log(`  product:  ${found.product.name} (${found.product.slug}), ${found.filename}`);
    console.log(`  date:     ${when(found.purchasedAt)} (stamped ${when(found.stampedAt)})`);
    console.log(`  trace id: ${found.traceId}`);
  });
}
