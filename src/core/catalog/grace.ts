import type { Product } from "../../db/schema.ts";
import type { Settings } from "../context.ts";
import * as z from "../zod.ts";

/**
 * A product's grace policy (decision 0020): what a failed subscription payment, a refund and a
 * dispute do to its buyers' access. The one place that decides it: fulfilment, the refund
 * notice and the product's JSON all ask here.
 */
export interface GracePolicy {
  /** Days of access kept after a subscription payment failed; 0: none. */
  pastDueDays: number;
  /** A full refund takes access away. */
  refundRevokes: boolean;
  /** An opened dispute suspends access until it is closed (a lost one revokes either way). */
  disputeSuspends: boolean;
}

export const MAX_PAST_DUE_DAYS = 60;

/** The grace fields as the seller sends them, each one optional. */
export const graceSchema = z.strictObject({
  pastDueDays: z.optional(
    z
      .number()
      .check(
        z.int("use a whole number of days"),
        z.minimum(0, "cannot be negative; use 0 for no grace"),
        z.maximum(MAX_PAST_DUE_DAYS, `is at most ${MAX_PAST_DUE_DAYS} days`),
      ),
  ),
  /** null: the shop's REFUND_REVOKES_ACCESS decides again. */
  refundRevokes: z.optional(z.nullable(z.boolean())),
  disputeSuspends: z.optional(z.boolean()),
});

export type GraceInput = z.input<typeof graceSchema>;

type GraceColumns = Pick<
  Product,
  "grace_past_due_days" | "grace_refund_revokes" | "grace_dispute_suspends"
>;

/**
 * Whether a full refund takes this product's access away: the product's own setting when the
 * seller chose one, else the shop's REFUND_REVOKES_ACCESS (true unless set). The product wins.
 */
export function refundRevokes(
  product: Pick<Product, "grace_refund_revokes">,
  settings: Pick<Settings, "refundRevokesAccess">,
): boolean {
  return product.grace_refund_revokes === null
    ? settings.refundRevokesAccess
    : product.grace_refund_revokes === 1;
}

/** The policy as it applies now (the shop's refund setting filled in). */
export function gracePolicy(
  product: GraceColumns,
  settings: Pick<Settings, "refundRevokesAccess">,
): GracePolicy {
  return {
    pastDueDays: product.grace_past_due_days,
    refundRevokes: refundRevokes(product, settings),
    disputeSuspends: product.grace_dispute_suspends === 1,
  };
}

/** The product columns a change of grace settings writes; fields left out stay as they are. */
export function graceColumns(grace: GraceInput | undefined): Partial<GraceColumns> {
  if (!grace) return {};
  return {
    ...(grace.pastDueDays !== undefined ? { grace_past_due_days: grace.pastDueDays } : {}),
    ...(grace.refundRevokes !== undefined
      ? { grace_refund_revokes: grace.refundRevokes === null ? null : grace.refundRevokes ? 1 : 0 }
      : {}),
    ...(grace.disputeSuspends !== undefined
      ? { grace_dispute_suspends: grace.disputeSuspends ? 1 : 0 }
      : {}),
  };
}
