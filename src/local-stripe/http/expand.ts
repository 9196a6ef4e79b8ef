import type { Engine } from "../engine.ts";
import { badRequest } from "../errors.ts";

type Json = Record<string, unknown>;

/**
 * Stripe's `expand[]`: each dotted path replaces an id with the object it names, `data.` steps
 * into lists, and a Checkout Session's `line_items` (never inline) can be asked for. Works on a
 * copy, so stored objects keep their ids.
 */
export function expand<T extends object>(engine: Engine, object: T, paths: string[]): T {
  const copy = structuredClone(object) as Json;
  for (const path of paths) {
    const steps = path.split(".");
    if (steps.length > 4)
      throw badRequest(`You cannot expand more than 4 levels of a property (${path}).`, "expand");
    expandPath(engine, copy, steps, path);
  }
  return copy as T;
}

function expandPath(engine: Engine, at: Json, steps: string[], path: string): void {
  const [field, ...rest] = steps;
  if (field === undefined) return;
  if (at.object === "list" && field === "data" && Array.isArray(at.data)) {
    for (const item of at.data) expandPath(engine, item as Json, rest, path);
    return;
  }
  let value = at[field];
  if (at.object === "checkout.session" && field === "line_items") {
    const items = engine.state.lineItems[String(at.id)] ?? [];
    value = {
      object: "list",
      data: structuredClone(items),
      has_more: false,
      url: `/v1/checkout/sessions/${at.id}/line_items`,
    };
  } else if (typeof value === "string") {
    const found = engine.find(value);
    if (!found) throw badRequest(`This property cannot be expanded (${path}).`, "expand");
    value = structuredClone(found.value);
  } else if (value === null) {
    return;
  } else if (typeof value !== "object" || value === undefined) {
    throw badRequest(`This property cannot be expanded (${path}).`, "expand");
  }
  at[field] = value;
  expandPath(engine, value as Json, rest, path);
}

/**
 * One page of a list, newest first, Stripe's way: `limit` (1-100, default 10), `starting_after`
 * or `ending_before` an id in the list.
 */
export function page<T extends { id: string }>(
  items: T[],
  opts: { limit?: number; startingAfter?: string; endingBefore?: string; url: string },
) {
  const limit = opts.limit ?? 10;
  let data: T[];
  let hasMore: boolean;
  if (opts.endingBefore) {
    const end = indexOf(items, opts.endingBefore, "ending_before");
    const start = Math.max(0, end - limit);
    data = items.slice(start, end);
    hasMore = start > 0;
  } else {
    const start = opts.startingAfter ? indexOf(items, opts.startingAfter, "starting_after") + 1 : 0;
    data = items.slice(start, start + limit);
    hasMore = start + limit < items.length;
  }
  return { object: "list" as const, data, has_more: hasMore, url: opts.url };
}

function indexOf(items: { id: string }[], id: string, param: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index < 0)
    throw badRequest(`Invalid ${param}: ${id} is not in this list.`, param, "resource_missing");
  return index;
}
