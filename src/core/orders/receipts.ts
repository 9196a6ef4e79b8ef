import { type Ctx, db, system } from "../context.ts";
import { createDownloadToken } from "../delivery/tokens.ts";
import { escapeHtml, layoutEmail } from "../identity/emails.ts";
import type { MailMessage } from "../ports.ts";

/**
 * The receipt, sent once per paid order (the caller claimed it with receipt_sent_at): the
 * library link and a delivery-token link, never a storage URL. When sending fails the claim is
 * released so the seller can resend it.
 */
export async function sendReceipt(ctx: Ctx, orderId: string): Promise<void> {
  const order = await db(ctx)
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", orderId)
    .executeTakeFirstOrThrow();
  const product = await db(ctx)
    .selectFrom("products")
    .selectAll()
    .where("id", "=", order.product_id)
    .executeTakeFirstOrThrow();
  const email =
    order.email ??
    (order.user_id
      ? (
          await db(ctx)
            .selectFrom("users")
            .select("email")
            .where("id", "=", order.user_id)
            .executeTakeFirst()
        )?.email
      : undefined);
  if (!email) return;
  try {
    const link = await createDownloadToken({
      ctx: { ...ctx, actor: system },
      input: { ...(order.user_id ? { userId: order.user_id } : { email }), productId: product.id },
    });
    await ctx.mailer.send(
      receiptEmail({
        shopName: ctx.settings.shopName,
        to: email,
        productName: product.name,
        libraryUrl: `${ctx.settings.publicUrl}/library`,
        linkUrl: link.url,
        linkExpiresAt: link.expiresAt,
      }),
    );
    ctx.log.info("receipt sent", { orderId, email });
  } catch (error) {
    await db(ctx)
      .updateTable("orders")
      .set({ receipt_sent_at: null })
      .where("id", "=", orderId)
      .execute();
    ctx.log.error("receipt not sent", {
      orderId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

export function receiptEmail(opts: {
  shopName: string;
  to: string;
  productName: string;
  libraryUrl: string;
  linkUrl: string;
  linkExpiresAt: number;
}): MailMessage {
  const until = new Date(opts.linkExpiresAt).toUTCString();
  return {
    to: opts.to,
    subject: `Your purchase: ${opts.productName}`,
    text: [
      `Thank you for buying ${opts.productName} from ${opts.shopName}.`,
      "",
      `Download it now (this link works until ${until}):`,
      opts.linkUrl,
      "",
      `Your files are always in your library. Sign in with ${opts.to} at:`,
      opts.libraryUrl,
      "",
      "Keep this email private: the download link works for anyone who has it.",
    ].join("\n"),
    html: layoutEmail({
      shopName: opts.shopName,
      title: `Thank you for buying ${opts.productName}`,
      paragraphs: [
        `Your payment is confirmed and your files are ready. The button below works until ${escapeHtml(until)}.`,
        `Your files are always in <a href="${escapeHtml(opts.libraryUrl)}">your library</a>: sign in with <strong>${escapeHtml(opts.to)}</strong>.`,
      ],
      button: { label: "Download your files", url: opts.linkUrl },
      footer: "Keep this email private: the download link works for anyone who has it.",
    }),
  };
}
