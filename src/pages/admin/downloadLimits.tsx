import type { OrderDownloads } from "../../core/downloads/resetDownloads.ts";
import type { Product } from "../../db/schema.ts";
import { Field } from "../field.tsx";
import { AdminLayout, type AdminPageProps } from "./layout.tsx";
import { ActionButton, Badge, FormError, StackTable } from "./ui.tsx";

/** The product page's download limit: what it is, and the form that sets it (decision 0021). */
export function DownloadLimitSettings(props: {
  product: Pick<Product, "slug" | "download_limit">;
  /** As typed, when the form comes back refused; else the product's limit. */
  value?: string;
  error?: string | null;
}) {
  const { product } = props;
  const limit = product.download_limit;
  return (
    <section class="card" aria-labelledby="download-limit">
      <h2 id="download-limit" style="margin:0">
        Download limit{" "}
        {limit === null ? (
          <Badge tone="muted">no limit</Badge>
        ) : (
          <Badge tone="ok">{`${limit} per file`}</Badge>
        )}
      </h2>
      <p class="muted" style="margin-top:10px">
        How many times each buyer may download each file. A double click, a retry or a resumed
        download within 10 minutes counts once, and a download the buyer broke off does not count.
        Buyers see what is left in their library; you can reset one order's count on its page.
      </p>
      <form method="post" action={`/admin/products/${product.slug}/download-limit`}>
        <FormError message={props.error} />
        <Field
          id="download-limit-value"
          label="Downloads per file per buyer"
          input={{
            name: "downloadLimit",
            type: "number",
            inputmode: "numeric",
            min: 1,
            max: 10000,
            value: props.value ?? (limit === null ? "" : String(limit)),
            placeholder: "no limit",
          }}
          hint="Empty: no limit. A lower limit applies at once; downloads already made stay counted."
        />
        <button type="submit">Save download limit</button>
      </form>
    </section>
  );
}

/** The download limit form again, with why it was refused and a way back. */
export function DownloadLimitRefusedPage(
  props: AdminPageProps & {
    product: Pick<Product, "slug" | "name" | "download_limit">;
    value: string;
    error: string;
  },
) {
  return (
    <AdminLayout {...props} title={`Download limit of ${props.product.name}`} section="products">
      <p>
        <a href={`/admin/products/${props.product.slug}`}>← {props.product.name}</a>
      </p>
      <h1>Download limit of {props.product.name}</h1>
      <DownloadLimitSettings product={props.product} value={props.value} error={props.error} />
    </AdminLayout>
  );
}

/** The order page's downloads under the product's limit, with the reset button. */
export function OrderDownloadCounts(props: { downloads: OrderDownloads; canReset: boolean }) {
  const { downloads } = props;
  const limit = downloads.product.downloadLimit;
  const counted = downloads.files.some((f) => f.downloads > 0);
  return (
    <section class="card" aria-labelledby="download-counts">
      <h2 id="download-counts" style="margin-top:0">
        Downloads
      </h2>
      <p class="muted">
        {limit === null
          ? "This product has no download limit: the buyer may download its files as often as they like."
          : `This product allows ${limit} download${limit === 1 ? "" : "s"} of each file per buyer.`}
      </p>
      <StackTable
        caption="Downloads of each file from this order"
        rows={downloads.files}
        columns={[
          { label: "File", kind: "title", cell: (f) => f.filename },
          { label: "Downloads counted", cell: (f) => String(f.downloads) },
          {
            label: "Left",
            cell: (f) =>
              f.downloadsLeft === null
                ? "no limit"
                : f.downloadsLeft === 0
                  ? "none"
                  : String(f.downloadsLeft),
          },
        ]}
        empty="The product has no files."
      />
      {limit !== null && props.canReset ? (
        <div class="actions" style="margin-top:12px">
          <ActionButton
            action={`/admin/orders/${downloads.orderId}/reset-downloads`}
            label="Reset downloads"
            secondary={!counted}
            confirm="Reset this order's downloads? The buyer may then download each file as often again as the product allows."
          />
        </div>
      ) : null}
    </section>
  );
}
