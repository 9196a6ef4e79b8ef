import { revokeAccessOf, revokeEntitlement } from "../../core/access/entitlements.ts";
import { grantAsSeller } from "../../core/access/grantAsSeller.ts";
import { getProductForAdmin } from "../../core/catalog/products.ts";
import { normalizeEmail } from "../../core/context.ts";
import { createDownloadToken } from "../../core/delivery/tokens.ts";
import { forbidden, invalidInput, isAppError } from "../../core/errors.ts";
import { emailSchema } from "../../core/identity/signIn.ts";
import { parseInput } from "../../core/validate.ts";
import * as z from "../../core/zod.ts";
import { withRuntime } from "../run.ts";

/** What these commands print is passed on to buyers: say when its address is a guess. */
const LINKS = { printsLinks: true };

const parseEmail = (email: string) =>
  normalizeEmail(parseInput(z.object({ email: emailSchema }), { email }).email);

export function grant(email: string, slug: string) {
  return withRuntime(async ({ systemCtx: ctx, config }) => {
    const granted = await grantAsSeller({ ctx, input: { email, product: slug } });
    console.log(`Granted ${granted.product_slug} to ${granted.email} (entitlement ${granted.id}).`);
    console.log(
      `They can sign in at ${config.publicUrl}/auth/login with that email and download it from their library.`,
    );
  }, LINKS);
}

export function revoke(
  email: string | undefined,
  slug: string | undefined,
  opts: { id?: string; reason?: string },
) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const reason = opts.reason ? { reason: opts.reason } : {};
    if (opts.id) {
      const e = await revokeEntitlement({ ctx, input: { entitlementId: opts.id, ...reason } });
      console.log(`Revoked entitlement ${e.id}.`);
      return;
    }
    if (!email || !slug)
      throw invalidInput("Give an email and a product slug, or --id <entitlementId>.");
    const address = parseEmail(email);
    const product = await getProductForAdmin({ ctx, input: { slug } });
    const count = await revokeAccessOf({
      ctx,
      input: { email: address, productId: product.id, ...reason },
    });
    console.log(
      count
        ? `Revoked ${count} entitlement(s) of ${address} for ${product.slug}.`
        : `${address} had no active access to ${product.slug}.`,
    );
  });
}

export function token(
  email: string,
  slug: string,
  opts: { expires?: string; afterFirstUse?: string; maxUses?: number; asset?: string },
) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const address = parseEmail(email);
    const product = await getProductForAdmin({ ctx, input: { slug } });
    const created = await createDownloadToken({
      ctx,
      input: {
        email: address,
        productId: product.id,
        ...(opts.expires ? { expiresIn: opts.expires } : {}),
        ...(opts.afterFirstUse !== undefined ? { expiresAfterFirstUse: opts.afterFirstUse } : {}),
        ...(opts.maxUses !== undefined ? { maxUses: opts.maxUses } : {}),
        ...(opts.asset ? { assetId: opts.asset } : {}),
      },
    }).catch((error: unknown) => {
      // The core words this for the buyer ("You have not purchased..."); say whom it is about.
      if (isAppError(error) && error.code === "forbidden")
        throw forbidden(`${address} has no access to ${product.slug}: ${error.message}`);
      throw error;
    });
    console.log(created.url);
    const window = created.expiresAfterFirstUse ? opts.afterFirstUse?.trim() : undefined;
    console.log(
      `Expires ${new Date(created.expiresAt).toISOString()}${window ? `, or ${window} after its first download if that comes first` : ""}${opts.maxUses ? `, ${opts.maxUses} download(s)` : ""}.`,
    );
  }, LINKS);
}
