import { createContext, useContext } from "hono/jsx";
import type { ShopProfile } from "../core/shop/profile.ts";
import { formatDate } from "./format.ts";

/** The shop whose page this is: the Layout provides it to everything it renders. */
export const ShopContext = createContext<ShopProfile | null>(null);

/** The public address of a stored image (a logo, a cover). */
export const imageUrl = (id: string): string => `/images/${id}`;

/** A moment, written in the shop's time zone, with the exact time for machines. */
export function When({ at }: { at: number }) {
  const zone = useContext(ShopContext)?.timeZone ?? "UTC";
  return <time datetime={new Date(at).toISOString()}>{formatDate(at, zone)}</time>;
}
