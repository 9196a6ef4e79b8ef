/**
 * "Download all": every active file of a purchase, for one archive. Each file is a download of its
 * own through the verb a single download of it takes (downloadAsUser.ts signed in,
 * downloadWithCheckout.ts with a checkout session id), so the access decision, the denials and
 * the download log are those of a single download: every file is first authorized as a HEAD
 * would be (nothing opened, counted or logged) before any byte is answered, and each is opened,
 * and logged, only when the archive reaches it. The archive's format is the caller's (the http
 * layer zips the entries as they stream).
 */
import type { Asset, Product } from "../../db/schema.ts";
import { withoutBidiControls } from "../catalog/filenames.ts";
import { type Ctx, db, requireUser } from "../context.ts";
import { notFound, unavailable } from "../errors.ts";
import { orderForViewer } from "../orders/confirmCheckout.ts";
import type { Delivery, DeliveryRequest } from "./deliver.ts";
import type { ClientInfo } from "./deliverAndRecord.ts";
import { downloadAsUser } from "./downloadAsUser.ts";
import { downloadWithCheckout } from "./downloadWithCheckout.ts";
import { inFileOrder } from "./fileOrder.ts";

export interface ArchiveEntry {
  /** The file's name in the archive: its file name, made unique within the archive. */
  name: string;
  size: number;
  sha256: string;
  lastModified: Date;
  /** Opens the file (a logged download, as a single one would be): its bytes, streamed. */
  open(): Promise<ReadableStream<Uint8Array>>;
}

export interface DownloadAll {
  product: Pick<Product, "slug" | "name">;
  /** The archive's file name, e.g. `kit.zip`. */
  filename: string;
  /** In the file order every page shows (fileOrder.ts). */
  entries: ArchiveEntry[];
}

/** One file through the single-download verb of the proof at hand. */
export type DownloadOne = (
  ctx: Ctx,
  assetId: string,
  request: DeliveryRequest,
) => Promise<Delivery>;

/** Every active file of a product the signed-in buyer owns (GET /library/{slug}/all.zip). */
export async function downloadAllAsUser({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; client: ClientInfo };
}): Promise<DownloadAll> {
  requireUser(ctx);
  const files = await db(ctx)
    .selectFrom("assets")
    .innerJoin("products", "products.id", "assets.product_id")
    .selectAll("assets")
    .select(["products.name as product_name"])
    .where("products.slug", "=", input.slug)
    .where("assets.active", "=", 1)
    .execute();
  const one: DownloadOne = (c, assetId, request) =>
    downloadAsUser({
      ctx: c,
      input: { slug: input.slug, assetId, request, client: input.client },
    });
  const product = { slug: input.slug, name: files[0]?.product_name ?? input.slug };
  return archiveOf(ctx, product, files, one);
}

/**
 * Every active file of the purchase a checkout session id proves (the success page's guest
 * buyer, for as long as its single downloads work: GET /checkout/all.zip?session_id=).
 */
export async function downloadAllWithCheckout({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { sessionId: string; client: ClientInfo };
}): Promise<DownloadAll> {
  const order = await orderForViewer(ctx, input.sessionId);
  const [product, files] = await Promise.all([
    db(ctx)
      .selectFrom("products")
      .select(["slug", "name"])
      .where("id", "=", order.product_id)
      .executeTakeFirstOrThrow(),
    db(ctx)
      .selectFrom("assets")
      .selectAll()
      .where("product_id", "=", order.product_id)
      .where("active", "=", 1)
      .execute(),
  ]);
  const one: DownloadOne = (c, assetId, request) =>
    downloadWithCheckout({
      ctx: c,
      input: { sessionId: input.sessionId, assetId, request, client: input.client },
    });
  return archiveOf(ctx, product, files, one);
}

/** The archive of these files, each checked, then opened and logged, by `one` (also releases' changes). */
export async function archiveOf(
  ctx: Ctx,
  product: DownloadAll["product"],
  assets: Asset[],
  one: DownloadOne,
): Promise<DownloadAll> {
  const files = inFileOrder(assets);
  // The same decision, and the same refusal, as each single download, before any byte: a
  // product the buyer does not own (or no longer owns) is refused as its files would be.
  if (!files.length) {
    await one(ctx, "", { headOnly: true });
    throw notFound("This product has no files yet.");
  }
  // Each file as its single download delivers it: a buyer's stamped PDF has its own size and
  // hash, and one not stamped yet answers "preparing" for the whole archive (decision 0026).
  const delivered: Asset[] = [];
  for (const file of files) {
    const head = await one(ctx, file.id, { headOnly: true });
    delivered.push("asset" in head ? head.asset : file);
  }
  // The archive streams the bytes whatever the delivery mode (a redirect cannot go in a zip).
  const streaming: Ctx = {
    ...ctx,
    settings: { ...ctx.settings, delivery: { ...ctx.settings.delivery, mode: "proxy" } },
  };
  const names = entryNames(files.map((f) => f.filename));
  return {
    product,
    filename: `${product.slug}.zip`,
    entries: files.map((file, i) => ({
      name: names[i] as string,
      size: (delivered[i] as Asset).size,
      sha256: (delivered[i] as Asset).sha256,
      lastModified: new Date(file.created_at),
      async open() {
        const delivery = await one(streaming, file.id, {});
        if (delivery.kind !== "stream")
          throw unavailable("This file cannot be added to the archive right now.");
        return delivery.object.body;
      },
    })),
  };
}

/**
 * Names inside the archive: the file names (already safe to show, catalog/filenames.ts), never
 * a folder, each once: a name met again, in any case, gets " (2)", " (3)"... before its extension.
 */
export function entryNames(filenames: string[]): string[] {
  const taken = new Set<string>();
  return filenames.map((filename) => {
    const name = withoutBidiControls(filename).replace(/[/\\]/g, "_") || "file";
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    let candidate = name;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}
