import { InvalidArgumentError } from "commander";
import type { Product } from "../../db/schema.ts";

/** The grace options of `product update` (decision 0020), parsed and turned into input. */

export interface GraceOptions {
  pastDueDays?: number;
  /** "shop": back to REFUND_REVOKES_ACCESS (commander keeps no null from a parser). */
  refund?: boolean | "shop";
  dispute?: boolean;
}

/** --past-due-days N: whole days; the verb says when it is out of range. */
export function pastDueDaysOption(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError("use a whole number of days from 0 to 60 (0: no grace)");
  return Number(value);
}

/** --refund revokes|keeps|shop: what a full refund does; shop: REFUND_REVOKES_ACCESS decides. */
export function refundOption(value: string): boolean | "shop" {
  if (value === "revokes") return true;
  if (value === "keeps") return false;
  if (value === "shop") return "shop";
  throw new InvalidArgumentError('use "revokes", "keeps" or "shop"');
}

/** --dispute suspends|keeps: what an opened dispute does (a lost one revokes either way). */
export function disputeOption(value: string): boolean {
  if (value === "suspends") return true;
  if (value === "keeps") return false;
  throw new InvalidArgumentError('use "suspends" or "keeps"');
}

export function graceInput(opts: GraceOptions) {
  const grace = {
    ...(opts.pastDueDays !== undefined ? { pastDueDays: opts.pastDueDays } : {}),
    ...(opts.refund !== undefined
      ? { refundRevokes: opts.refund === "shop" ? null : opts.refund }
      : {}),
    ...(opts.dispute !== undefined ? { disputeSuspends: opts.dispute } : {}),
  };
  return Object.keys(grace).length ? { grace } : {};
}

/** "Grace: 7 days past due; a refund revokes access (shop setting); a dispute suspends it." */
export function graceSettingsText(p: Product, shopRefundRevokes: boolean): string {
  const days = p.grace_past_due_days;
  const pastDue = days ? `${days} day${days === 1 ? "" : "s"} past due` : "no past-due grace";
  const revokes =
    p.grace_refund_revokes === null ? shopRefundRevokes : p.grace_refund_revokes === 1;
  const refund = `a refund ${revokes ? "revokes access" : "keeps access"}${
    p.grace_refund_revokes === null ? " (shop setting)" : ""
  }`;
  const dispute = p.grace_dispute_suspends ? "a dispute suspends it" : "a dispute keeps it";
  return `Grace: ${pastDue}; ${refund}; ${dispute}.`;
}
