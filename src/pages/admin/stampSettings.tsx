import type { Product } from "../../db/schema.ts";
import { Badge } from "./ui.tsx";

/** The product page's PDF stamping: on or off, and what a copy that cannot be stamped does (decision 0026). */
export function StampSettings(props: {
  product: Pick<Product, "slug" | "stamp_pdfs" | "stamp_failure">;
}) {
  const { product } = props;
  const on = product.stamp_pdfs === 1;
  return (
    <section class="card" aria-labelledby="pdf-stamping">
      <h2 id="pdf-stamping" style="margin:0">
        PDF stamping {on ? <Badge tone="ok">on</Badge> : <Badge tone="muted">off</Badge>}
      </h2>
      <p class="muted" style="margin-top:10px">
        Each buyer's PDFs carry "Licensed to their email, order reference" on every page and an
        invisible trace id: <code>npx tollgate trace leaked.pdf</code> tells you which order a
        leaked copy came from. Copies are made in the background right after the purchase; the
        receipt and other files never wait, and a PDF asked for before its copy is ready shows
        "Preparing your copy" for a few seconds. PDFs up to 32 MB are stamped.
      </p>
      <form method="post" action={`/admin/products/${product.slug}/stamping`}>
        <div class="field">
          <label>
            <input type="checkbox" name="pdfs" value="on" checked={on} /> Stamp each buyer's PDFs
          </label>
        </div>
        <fieldset class="field">
          <legend>When a copy cannot be stamped (you are told by mail either way)</legend>
          <label>
            <input
              type="radio"
              name="onFailure"
              value="original"
              checked={product.stamp_failure === "original"}
            />{" "}
            Serve the original, without the stamp
          </label>
          <label>
            <input
              type="radio"
              name="onFailure"
              value="hold"
              checked={product.stamp_failure === "hold"}
            />{" "}
            Hold the file until you fix it
          </label>
        </fieldset>
        <button type="submit">Save PDF stamping</button>
      </form>
    </section>
  );
}
