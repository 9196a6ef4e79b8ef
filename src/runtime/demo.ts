import { addAsset } from "../core/catalog/assets.ts";
import { createProduct, listProducts } from "../core/catalog/products.ts";
import type { Ctx } from "../core/context.ts";

const DEMO_FILE = `Tollgate demo download
======================

If you can read this, the whole path worked: a purchase (or a grant) gave you an entitlement,
the backend checked it, and the file came to you through a private link that expires in minutes.

Replace this product with your own:
  npx tollgate product add --slug my-kit --name "My kit" --price 1900 --currency usd
  npx tollgate asset add my-kit ./my-kit.zip
`;

/** Who may open the seller pages of the offline demo when ADMIN_EMAILS is not set. */
export const DEMO_SELLER = "seller@example.com";

/** A first run of the embedded shape gets one product with one file, so there is something to try. */
export async function seedDemo(ctx: Ctx): Promise<boolean> {
  if ((await listProducts({ ctx, input: { includeUnpublished: true } })).length > 0) return false;
  await createProduct({
    ctx,
    input: {
      slug: "starter-kit",
      name: "Starter Kit (demo)",
      description:
        "A demo product: one small text file. Buy it with the test card 4242 4242 4242 4242, or grant it to yourself.",
      kind: "one_time",
      price: { amount: 1900, currency: "usd" },
    },
  });
  const bytes = new TextEncoder().encode(DEMO_FILE);
  await addAsset({
    ctx,
    input: {
      productSlug: "starter-kit",
      filename: "starter-kit-readme.txt",
      contentType: "text/plain; charset=utf-8",
      body: new Blob([bytes]).stream(),
    },
  });
  return true;
}
