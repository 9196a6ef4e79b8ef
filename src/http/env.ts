import type { Context } from "hono";
import type { LocalObjectStore } from "../adapters/storage-local/index.ts";
import type { Ctx, Deps } from "../core/context.ts";
import type { ShopProfile } from "../core/shop/profile.ts";
import type { Diagnosis } from "../pages/admin/diagnosis.ts";

/** What the app needs beyond the core's dependencies; built once per runtime. */
export interface AppDeps extends Deps {
  adminToken?: string;
  /** Set when files live in a local folder: the app then serves its signed URLs at /files/*. */
  localFiles?: LocalObjectStore;
  /** Extra readiness checks (database, storage), run by /readyz. */
  ready: () => Promise<{ name: string; ok: boolean; error?: string }[]>;
  /** Whether mail goes to the outbox, readable at /dev/outbox (by this machine, or an admin). */
  devOutbox: boolean;
  /** The client's address as this runtime knows it (socket, or the platform's header). */
  clientIp: (c: Context) => string | null;
  /** Whether the request comes from the machine the shop runs on (never true on Workers). */
  fromThisMachine: (c: Context) => boolean;
  /**
   * Reads the request body (at most `limit` bytes, null past it) without a Web Request, where the
   * runtime can (Node); undefined leaves it to `Request.body`.
   */
  readRawBody?: (c: Context, limit: number) => Promise<Uint8Array | null> | undefined;
  /** What `tollgate doctor` checks, for the settings page; absent where the runtime cannot. */
  diagnose?: () => Promise<Diagnosis>;
}

export interface HonoEnv {
  Variables: {
    deps: AppDeps;
    ctx: Ctx;
    /** The shop's name, logo, support address and time zone, for pages. */
    shop: ShopProfile;
    requestId: string;
    /** The headers every answer carries (middleware/headers.ts). */
    securityHeaders: Record<string, string>;
    /** The session cookie the request rides on, good or not (sameOrigin checks it). */
    sessionToken: string | null;
  };
}
