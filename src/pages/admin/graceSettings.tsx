import type { Product } from "../../db/schema.ts";
import { Field } from "../field.tsx";
import { FormError } from "./ui.tsx";

/** The grace policy form as typed (decision 0020). */
export interface GraceFormValues {
  pastDueDays: string;
  /** shop: the shop's REFUND_REVOKES_ACCESS decides. */
  refund: "shop" | "revokes" | "keeps";
  dispute: "suspends" | "keeps";
}

export function graceFormValues(p: Product): GraceFormValues {
  return {
    pastDueDays: String(p.grace_past_due_days),
    refund: p.grace_refund_revokes === null ? "shop" : p.grace_refund_revokes ? "revokes" : "keeps",
    dispute: p.grace_dispute_suspends ? "suspends" : "keeps",
  };
}

/** What a failed subscription payment, a refund and a dispute do to the buyers' access. */
export function GraceSettings({
  product,
  values,
  error,
  shopRefundRevokes,
}: {
  product: Product;
  values: GraceFormValues;
  error: string | null | undefined;
  /** The shop's REFUND_REVOKES_ACCESS, which decides while the product leaves it to the shop. */
  shopRefundRevokes: boolean;
}) {
  const shopRule = shopRefundRevokes ? "takes the files away" : "leaves the files";
  return (
    <section class="card" aria-labelledby="grace-policy">
      <h2 id="grace-policy" style="margin-top:0">
        Grace policy
      </h2>
      <p class="muted">
        What happens to buyers' access when a payment fails, a payment is refunded or a buyer
        disputes it with their bank.
      </p>
      <form method="post" action={`/admin/products/${product.slug}/grace`}>
        <FormError message={error} />
        <Field
          id="grace-past-due"
          label="Days of access after a failed payment"
          input={{
            name: "pastDueDays",
            type: "number",
            inputmode: "numeric",
            min: 0,
            max: 60,
            step: 1,
            required: true,
            value: values.pastDueDays,
          }}
          hint={
            product.kind === "subscription"
              ? "When a renewal payment fails, the subscriber keeps access this many days from the failure (never less than they paid for) and gets one email asking them to update their card. 0: access ends with the period paid for. At most 60."
              : "For subscriptions: days a subscriber keeps access after a renewal payment fails, with one email asking them to update their card. 0: none. At most 60."
          }
        />
        <Field
          id="grace-refund"
          label="A full refund"
          hint={`The order is marked refunded either way, and the buyer's email says whether they keep the files. This shop's setting (REFUND_REVOKES_ACCESS) ${shopRule}.`}
        >
          <select id="grace-refund" name="refund" aria-describedby="grace-refund-help">
            <option value="shop" selected={values.refund === "shop"}>
              As the shop's setting says ({shopRule})
            </option>
            <option value="revokes" selected={values.refund === "revokes"}>
              Takes the files away
            </option>
            <option value="keeps" selected={values.refund === "keeps"}>
              Leaves the files to the buyer
            </option>
          </select>
        </Field>
        <Field
          id="grace-dispute"
          label="An opened dispute"
          hint="A lost dispute takes the files away either way; a won one gives back what was suspended."
        >
          <select id="grace-dispute" name="dispute" aria-describedby="grace-dispute-help">
            <option value="suspends" selected={values.dispute === "suspends"}>
              Suspends access until it is closed
            </option>
            <option value="keeps" selected={values.dispute === "keeps"}>
              Leaves access as it is
            </option>
          </select>
        </Field>
        <button type="submit">Save grace policy</button>
      </form>
    </section>
  );
}
