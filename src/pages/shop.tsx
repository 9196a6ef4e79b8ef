import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { ShopProfile } from "../core/shop/profile.ts";
import { formatDate } from "./format.ts";

/**
 * The shop whose page is being rendered, for what deep in a page needs it (a date's time zone).
 * A small stand-in for hono/jsx's createContext, which brings its DOM renderer into the Worker
 * bundle (9 KB gzip): ShopScope renders its children itself, synchronously, with the shop on
 * this stack, the way hono's context provider does.
 */
const scopes: ShopProfile[] = [];

export function ShopScope({ shop, children }: { shop: ShopProfile; children: Child }) {
  scopes.push(shop);
  try {
    const html = (<>{children}</>).toString();
    if (typeof html !== "string") throw new Error("pages render synchronously");
    return raw(html);
  } finally {
    scopes.pop();
  }
}

/** A moment, written in the shop's time zone, with the exact time for machines. */
export function When({ at }: { at: number }) {
  const zone = scopes.at(-1)?.timeZone ?? "UTC";
  return <time datetime={new Date(at).toISOString()}>{formatDate(at, zone)}</time>;
}
