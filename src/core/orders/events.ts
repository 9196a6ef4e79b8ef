/** How an event was handled, as recorded on the webhook event row. */
export type EventOutcome =
  | { status: "processed"; note?: string }
  | { status: "ignored"; note: string }
  | { status: "flagged"; note: string };
