import type { Ctx } from "./context.ts";
import type { Mail } from "./ports.ts";

/** What a seller alert tells: see the "seller-alert" Mail. */
export interface SellerAlert {
  title: string;
  lead: string;
  rows: [string, string][];
  /** Where in /admin to look: a path under the shop's public URL, or a full URL. */
  pageUrl: string;
}

/**
 * Mails one mail to each of the shop's admins (ADMIN_EMAILS). A mail that does not go is logged,
 * never thrown: the work that raised the alert is done and must not fail for it.
 */
export async function mailAdmins(
  ctx: Ctx,
  mail: (to: string) => Mail,
  failure: string,
): Promise<void> {
  for (const to of ctx.settings.adminEmails) {
    try {
      await ctx.mailer.send(mail(to));
    } catch (error) {
      ctx.log.error(failure, { to, error: String(error) });
    }
  }
}

/** Tells the shop's admins that something needs a look, by mail (see mailAdmins). */
export async function alertSeller(ctx: Ctx, alert: SellerAlert): Promise<void> {
  const pageUrl = alert.pageUrl.startsWith("/")
    ? `${ctx.settings.publicUrl}${alert.pageUrl}`
    : alert.pageUrl;
  await mailAdmins(
    ctx,
    (to) => ({ kind: "seller-alert", to, ...alert, pageUrl }),
    `could not mail the seller: ${alert.title}`,
  );
}
