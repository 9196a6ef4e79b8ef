import { formatBytes, formatPrice } from "../../pages/format.ts";
import { type Ctx, db, system } from "../context.ts";
import { createDownloadToken } from "../delivery/tokens.ts";
import { detailsTable, layoutEmail, libraryParagraph, linkValidity } from "../identity/emails.ts";
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
    const files = await db(ctx)
      .selectFrom("assets")
      .select(["filename", "size"])
      .where("product_id", "=", product.id)
      .where("active", "=", 1)
      .orderBy("filename")
      .execute();
    await ctx.mailer.send(
      receiptEmail({
        shopName: ctx.settings.shopName,
        to: email,
        productName: product.name,
        orderRef: order.id,
        amount: order.amount,
        currency: order.currency,
        files,
        libraryUrl: `${ctx.settings.publicUrl}/library`,
        link,
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

export interface ReceiptDetails {
  shopName: string;
  to: string;
  productName: string;
  orderRef: string;
  /** Minor units, as the order recorded it. */
  amount: number;
  currency: string;
  files: { filename: string; size: number }[];
  libraryUrl: string;
  /** A delivery-token link: never a storage URL. */
  link: { url: string; expiresAt: number; maxUses: number | null };
}

const PREPARING =
  "The seller is still preparing the files: the link and your library show them once they are ready.";

export function receiptEmail(opts: ReceiptDetails): MailMessage {
  const paid = formatPrice(opts.amount, opts.currency);
  const validity = linkValidity(opts.link);
  const why = `You got this email because you bought ${opts.productName} from ${opts.shopName} with ${opts.to}.`;
  const private_ = "Keep this email private: the download link works for anyone who has it.";
  return {
    to: opts.to,
    subject: `Your purchase: ${opts.productName}`,
    text: [
      `Thank you for buying ${opts.productName} from ${opts.shopName}.`,
      "",
      `Product:         ${opts.productName}`,
      `Amount paid:     ${paid}`,
      `Order reference: ${opts.orderRef}`,
      "",
      opts.files.length ? "What is in it:" : PREPARING,
      ...opts.files.map((f) => `  - ${f.filename} (${formatBytes(f.size)})`),
      "",
      `Download your files (this link works ${validity}):`,
      opts.link.url,
      "",
      `Your files are always in your library. Sign in with ${opts.to} at:`,
      opts.libraryUrl,
      "",
      private_,
      "",
      "--",
      why,
    ].join("\n"),
    html: layoutEmail({
      shopName: opts.shopName,
      preheader: `Payment received: ${paid} for ${opts.productName}. Your files are ready to download.`,
      title: `Thank you for buying ${opts.productName}`,
      paragraphs: [
        "Your payment is confirmed and your files are ready.",
        `The download button works ${validity}.`,
      ],
      button: { label: "Download your files", url: opts.link.url },
      details: [
        detailsTable("Your order", [
          ["Product", opts.productName],
          ["Amount paid", paid],
          ["Order reference", opts.orderRef],
        ]),
        ...(opts.files.length
          ? [
              detailsTable(
                "What is in it",
                opts.files.map((f) => [f.filename, formatBytes(f.size)]),
                { keepValuesOnOneLine: true },
              ),
            ]
          : []),
      ],
      closing: [
        ...(opts.files.length ? [] : [PREPARING]),
        libraryParagraph(opts.libraryUrl, opts.to),
        private_,
      ],
      footer: why,
    }),
  };
}
