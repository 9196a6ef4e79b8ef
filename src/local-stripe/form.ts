import { badRequest } from "./errors.ts";

/**
 * Stripe's form encoding: `line_items[0][price_data][currency]=usd`, `expand[]=line_items` or
 * `expand[0]=line_items`. Every value stays a string; the API routes read them through `Reader`.
 */
export type Param = string | Params | Param[];
export interface Params {
  [key: string]: Param;
}

interface Node {
  children: Map<string, Node | string>;
  appended: number;
}

const node = (): Node => ({ children: new Map(), appended: 0 });

export function parseParams(search: URLSearchParams): Params {
  const root = node();
  for (const [key, value] of search) {
    const segments = splitKey(key);
    let at = root;
    segments.forEach((segment, i) => {
      const name = segment === "" ? String(at.appended++) : segment;
      const last = i === segments.length - 1;
      const existing = at.children.get(name);
      if (last) {
        if (existing !== undefined && typeof existing !== "string")
          throw badRequest(`Invalid value for ${key}: it is also used as a hash.`, key);
        at.children.set(name, value);
        return;
      }
      if (typeof existing === "string")
        throw badRequest(`Invalid hash for ${key}: it is also given a plain value.`, key);
      const next = existing ?? node();
      at.children.set(name, next);
      at = next;
    });
  }
  return toParams(root) as Params;
}

function splitKey(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match?.[1]) throw badRequest(`Invalid parameter name: ${key}`, key);
  const rest = [...(match[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? "");
  return [match[1], ...rest];
}

/** Nodes whose keys are all indexes become arrays (in index order); the rest plain objects. */
function toParams(at: Node): Params | Param[] {
  const entries = [...at.children].map(
    ([k, v]) => [k, typeof v === "string" ? v : toParams(v)] as const,
  );
  if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k)))
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
  return Object.fromEntries(entries);
}
