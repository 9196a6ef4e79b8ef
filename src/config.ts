import type { CheckoutDefaults } from "./core/context.ts";
import { parseDuration, parseSize } from "./core/duration.ts";
import * as z from "./core/zod.ts";

/**
 * Configuration from environment variables (DESIGN section 10). Parsed once at the edge of each
 * runtime; the rest of the code receives the typed result and never reads the environment.
 */
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}`,
    );
  }
}

const empty = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
/** An environment variable: empty counts as unset. */
const variable = <T extends z.ZodMiniType>(schema: T) => z.preprocess(empty, schema);
/** A "true" or "false" setting. */
const flag = (fallback: "true" | "false") =>
  variable(
    z._default(z.enum(["true", "false"], { message: 'must be "true" or "false"' }), fallback),
  );
const trimmed = () => z.string().check(z.trim());
const optionalText = variable(z.optional(trimmed()));

const duration = (fallback: string, maxSeconds: number) =>
  variable(
    z.pipe(
      z._default(z.string(), fallback),
      z.transform((text: string, ctx) => {
        const seconds = parseDuration(text);
        if (seconds === null) {
          return z.refuse(ctx, `must be a duration like 300, 90s, 5m, 24h or 7d (got "${text}")`);
        }
        if (seconds > maxSeconds) {
          return z.refuse(ctx, `must be at most ${maxSeconds} seconds (got "${text}")`);
        }
        return seconds;
      }),
    ),
  );

const positiveInt = (label: string, max = Number.MAX_SAFE_INTEGER) =>
  variable(
    z.optional(
      z
        .pipe(
          trimmed().check(z.regex(/^\d+$/, `must be a whole number (${label})`)),
          z.transform(Number),
        )
        .check(
          z.refine((n) => n > 0, `must be greater than 0 (${label})`),
          z.refine((n) => n <= max, `must be at most ${max} (${label})`),
        ),
    ),
  );

const url = (protocols: string[], example: string) =>
  variable(
    z.optional(
      trimmed().check(
        z.refine((v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        }, `must be a URL like ${example}`),
      ),
    ),
  );

const emailList = variable(
  z.pipe(
    z.pipe(
      z._default(z.string(), ""),
      z.transform((v: string) =>
        v
          .split(",")
          .map((e) => e.trim().toLowerCase())
          .filter(Boolean),
      ),
    ),
    z.array(z.email("must be a comma-separated list of email addresses")),
  ),
);

const SEVEN_DAYS = 7 * 86400;

// One address, bare or as `Name <address>`; no line breaks, which would forge mail headers.
const FROM_ADDRESS =
  /^(?:[^<>\r\n]*<[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)$/;

/** What is wrong with MAIL_URL, in words; never echoes it, since it may hold a password. */
function mailUrlProblem(v: string): string | null {
  if (v === "outbox:") return null;
  const usage =
    "must be outbox:, smtp://user:pass@host:587, smtps://user:pass@host:465 or an https:// mail API URL";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return usage;
  }
  if (url.protocol === "smtp:" || url.protocol === "smtps:") {
    if (!url.hostname) return `has no host (${usage})`;
    if (url.username && !url.password)
      return "has a user but no password: smtp://user:password@host:587 (percent-encode @ : / in them)";
    if (!url.username && url.password) return "has a password but no user";
    if (url.protocol === "smtp:" && url.port === "465")
      return "port 465 speaks TLS from the start: use smtps://...:465";
    if (url.protocol === "smtps:" && url.port === "587")
      return "port 587 starts in plain text and upgrades with STARTTLS: use smtp://...:587";
    return null;
  }
  if (url.protocol === "https:" || url.protocol === "http:") {
    if (url.username || url.password)
      return "must not carry credentials: put the API key in MAIL_API_KEY";
    // The API key travels with every request: plain http only to this machine.
    if (url.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname))
      return "must be https:// (http:// only to localhost)";
    return null;
  }
  return usage;
}

function mailKind(url: string): "outbox" | "smtp" | "http" {
  if (/^smtps?:/i.test(url)) return "smtp";
  if (/^https?:/i.test(url)) return "http";
  return "outbox";
}

const schema = z.object({
  PORT: variable(
    z
      .pipe(
        z
          ._default(trimmed(), "8787")
          .check(z.refine((v) => /^\d+$/.test(v), "must be a port number")),
        z.transform(Number),
      )
      .check(z.refine((n) => n <= 65535, "must be between 0 and 65535")),
  ),
  // Loopback unless the operator says otherwise: a fresh `npm start` serves only this machine.
  HOST: variable(
    z._default(
      z.pipe(
        trimmed().check(
          z.regex(
            /^[\w.:-]+$|^\[[\da-f:.]+\]$/i,
            "must be an address to listen on, like 127.0.0.1, 0.0.0.0 or ::",
          ),
        ),
        z.transform((v: string) => v.replace(/^\[|\]$/g, "")),
      ),
      "127.0.0.1",
    ),
  ),
  // Which proxies in front of the shop may name the client (X-Forwarded-For): a hop count, or
  // their addresses and CIDR ranges (also loopback, linklocal, uniquelocal), comma-separated.
  TRUST_PROXY: variable(
    z.optional(
      z.pipe(
        trimmed(),
        z.transform((v: string, ctx) => {
          const trust = parseTrustProxy(v);
          if (!trust)
            return z.refuse(
              ctx,
              `must be a hop count like 1, or proxy addresses like 10.0.0.0/8,loopback (got "${v}")`,
            );
          return trust;
        }),
      ),
    ),
  ),
  // Links are built as PUBLIC_URL + path, so a query or fragment would break every one of them.
  PUBLIC_URL: url(["http:", "https:"], "https://shop.example.com").check(
    z.refine((v) => v === undefined || !/[?#]/.test(v), "must not have a ?query or #fragment"),
  ),
  DATABASE_URL: variable(
    z
      ._default(z.string(), "sqlite:./data/tollgate.db")
      .check(
        z.refine(
          (v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v),
          "must be sqlite:<path> or postgres://user:password@host:5432/database",
        ),
      ),
  ),
  DATABASE_POOL_MAX: positiveInt("connections"),
  DATABASE_STATEMENT_TIMEOUT: duration("30s", 3600),
  STORAGE_URL: variable(
    z
      ._default(z.string(), "file:./data/files")
      .check(
        z.refine(
          (v) => /^file:.+/.test(v) || /^(s3|r2):\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/?$/.test(v),
          "must be file:<folder> or s3://<bucket> (on Cloudflare Workers: r2://<bucket>)",
        ),
      ),
  ),
  // The Worker's R2 bucket binding (wrangler.jsonc), used with STORAGE_URL=r2://<bucket>.
  R2_BINDING: variable(
    z._default(
      trimmed().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a binding name like FILES")),
      "FILES",
    ),
  ),
  // Names R2's S3 endpoint, https://<account>.r2.cloudflarestorage.com, when S3_ENDPOINT is unset.
  R2_ACCOUNT_ID: variable(
    z.optional(
      trimmed().check(z.regex(/^[a-f0-9]{32}$/, "must be the 32-character Cloudflare account id")),
    ),
  ),
  S3_ENDPOINT: url(["http:", "https:"], "https://<account>.r2.cloudflarestorage.com"),
  S3_REGION: optionalText,
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  DELIVERY_MODE: variable(
    z.optional(z.enum(["redirect", "proxy"], { message: 'must be "redirect" or "proxy"' })),
  ),
  DOWNLOAD_URL_TTL: duration("300", SEVEN_DAYS),
  DOWNLOAD_TOKEN_TTL: duration("24h", 365 * 86400),
  DOWNLOAD_TOKEN_MAX_USES: positiveInt("uses per link", 1_000_000),
  MAX_UPLOAD_SIZE: variable(
    z.pipe(
      z._default(z.string(), "10GB"),
      z.transform((text: string, ctx) => {
        const bytes = parseSize(text);
        if (bytes === null)
          return z.refuse(ctx, `must be a size like 500MB or 5GB (got "${text}")`);
        return bytes;
      }),
    ),
  ),
  STRIPE_SECRET_KEY: variable(
    z.optional(
      z
        .string()
        .check(
          z.regex(
            /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/,
            "must be a Stripe secret key (sk_test_... or sk_live_...)",
          ),
        ),
    ),
  ),
  STRIPE_WEBHOOK_SECRET: variable(
    z.optional(
      z
        .string()
        .check(z.regex(/^whsec_[A-Za-z0-9+/=_]+$/, "must be a webhook signing secret (whsec_...)")),
    ),
  ),
  STRIPE_API_URL: url(["http:", "https:"], "http://127.0.0.1:12111"),
  // clamd's TCP socket: every uploaded file is scanned before it is delivered (decision 0027).
  CLAMD_URL: variable(
    z.optional(
      trimmed().check(
        z.superRefine((v, ctx) => {
          const problem = clamdUrlProblem(v);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
      ),
    ),
  ),
  // Sharing detection's defaults, until the seller saves their own on the settings page
  // (decision 0028): off; flagged past 5 networks or 4 devices in 24 hours.
  SHARING_DETECTION: flag("false"),
  SHARING_NETWORKS: positiveInt("distinct networks allowed in the window", 1000),
  SHARING_DEVICES: positiveInt("distinct devices allowed in the window", 1000),
  SHARING_WINDOW: duration("24h", 30 * 86400),
  REFUND_REVOKES_ACCESS: flag("true"),
  // The Checkout settings' defaults, until the seller saves their own (issue 20, decision 0029).
  CHECKOUT_AUTOMATIC_TAX: flag("false"),
  CHECKOUT_TAX_ID_COLLECTION: flag("false"),
  CHECKOUT_INVOICE_CREATION: flag("false"),
  CHECKOUT_PROMOTION_CODES: flag("false"),
  WEBHOOK_ALLOW_PRIVATE_URLS: flag("false"),
  AUTH: variable(
    z._default(
      z.enum(["builtin", "supabase"], { message: 'must be "builtin" or "supabase"' }),
      "builtin",
    ),
  ),
  SUPABASE_URL: url(["http:", "https:"], "https://<project>.supabase.co"),
  SUPABASE_ANON_KEY: optionalText,
  MAIL_URL: variable(
    z._default(trimmed(), "outbox:").check(
      z.superRefine((v, ctx) => {
        const problem = mailUrlProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
  ),
  MAIL_FROM: variable(
    z.optional(
      trimmed().check(
        z.refine(
          (v) => FROM_ADDRESS.test(v),
          "must be an address like shop@example.com or Shop Name <shop@example.com>",
        ),
      ),
    ),
  ),
  MAIL_API_KEY: variable(
    z.optional(
      trimmed().check(
        z.regex(/^[\x21-\x7e]+$/, "must be the mail provider's API key, without spaces"),
      ),
    ),
  ),
  SHOP_NAME: variable(
    z._default(z.string().check(z.maxLength(80, "must be at most 80 characters")), "Tollgate"),
  ),
  SESSION_SECRET: variable(
    z.optional(
      z
        .string()
        .check(z.minLength(32, "must be at least 32 characters (try: openssl rand -hex 32)")),
    ),
  ),
  ADMIN_EMAILS: emailList,
  ADMIN_TOKEN: variable(
    z.optional(
      z
        .string()
        .check(z.minLength(24, "must be at least 24 characters (try: openssl rand -hex 24)")),
    ),
  ),
  LICENSE_RATE_LIMIT: variable(
    z._default(
      z.coerce
        .number()
        .check(
          z.int("must be a whole number of requests a minute"),
          z.minimum(60, "must be at least 60 a minute, or an app's normal use could be refused"),
        ),
      120,
    ),
  ),
  RELEASE_MAIL_RATE: variable(
    z._default(
      z.coerce
        .number()
        .check(
          z.int("must be a whole number of mails a minute"),
          z.minimum(1, "must be at least 1 a minute"),
        ),
      600,
    ),
  ),
  LICENSE_SIGNING_KEY: variable(
    z.optional(
      z.pipe(
        z.string(),
        z.transform((v, ctx) => {
          try {
            return signingKeys(JSON.parse(v));
          } catch (error) {
            return z.refuse(
              ctx,
              `must be an Ed25519 private key as a JWK (or a JWK Set whose first key signs): ${(error as Error).message}. Make one with: tollgate license keygen`,
            );
          }
        }),
      ),
    ),
  ),
  HOUSEKEEPING_INTERVAL: duration("10m", 86400),
  RECONCILE_INTERVAL: duration("1h", 86400),
  // Seconds after payment, or null ("off"): decision 0023.
  DOWNLOAD_REMINDER_AFTER: variable(
    z.pipe(
      z._default(z.string(), "48h"),
      z.transform((text: string, ctx) => {
        if (text.trim().toLowerCase() === "off") return null;
        const seconds = parseDuration(text);
        if (seconds === null)
          return z.refuse(ctx, `must be a duration like 48h or 3d, or "off" (got "${text}")`);
        if (seconds < 3600) return z.refuse(ctx, `must be at least 1h (got "${text}")`);
        if (seconds > 90 * 86400) return z.refuse(ctx, `must be at most 90d (got "${text}")`);
        return seconds;
      }),
    ),
  ),
});

/** Every setting's name (PORT, DATABASE_URL, ...): what `npm run dev:worker` hands the Worker. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

type Parsed = z.infer<typeof schema>;

export interface Config {
  port: number;
  /** The address `serve` listens on. */
  host: string;
  /** The proxies whose X-Forwarded-For names the client; null: the socket's address is the client. */
  trustProxy: TrustProxy | null;
  publicUrl: string;
  database: {
    url: string;
    dialect: "sqlite" | "postgres";
    poolMax: number;
    statementTimeoutMs: number;
  };
  storage:
    | { kind: "local"; root: string }
    | ({ kind: "s3"; bucket: string } & S3Access)
    | {
        /** Cloudflare Workers: the bucket through its binding, plus R2's S3 API when keys are set. */
        kind: "r2";
        bucket: string;
        binding: string;
        s3: S3Access | null;
      };
  delivery: {
    mode: "redirect" | "proxy";
    urlTtlSeconds: number;
    tokenTtlSeconds: number;
    tokenMaxUses: number | null;
  };
  maxUploadBytes: number;
  refundRevokesAccess: boolean;
  /**
   * Sharing detection's defaults (SHARING_*, decision 0028): the seller's settings override
   * them. A buyer is flagged past `networks` distinct networks or `devices` distinct devices
   * within `windowHours`.
   */
  sharing: { enabled: boolean; networks: number; devices: number; windowHours: number };
  /** The Checkout settings' defaults (CHECKOUT_*); the seller's settings override them. */
  checkout: CheckoutDefaults;
  /** Outgoing webhooks may go to loopback and private addresses (tests, private networks). */
  webhookAllowPrivateUrls: boolean;
  stripe: { secretKey?: string; webhookSecret?: string; apiUrl?: string };
  auth: { kind: "builtin" } | { kind: "supabase"; url: string; anonKey: string };
  /** kind follows MAIL_URL's scheme; apiKey is set for the HTTP mail API. */
  mail: { kind: "outbox" | "smtp" | "http"; url: string; from: string; apiKey?: string };
  shopName: string;
  sessionSecret?: string;
  adminEmails: string[];
  adminToken?: string;
  /** Requests a minute the public licence API takes from one client, and for one key. */
  licenseRateLimit: number;
  /** Update mails of releases sent a minute, at most, by each sender (RELEASE_MAIL_RATE). */
  releaseMailRate: number;
  /** A buyer who has not downloaded this long after payment is reminded once; null: never. */
  downloadReminderAfterMs: number | null;
  /** clamd's TCP socket (CLAMD_URL): every upload is scanned before it is delivered. */
  clamd: { host: string; port: number } | null;
  /** Signs offline licence files (LICENSE_SIGNING_KEY): the first signs, all are published. */
  licenseSigningKeys?: SigningKey[];
  /**
   * How often `serve` runs its periodic jobs, all processes of the shop together (each pass
   * runs in one of them: decision 0012).
   */
  jobs: { housekeepingMs: number; reconcileMs: number };
}

export interface S3Access {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function parseConfig(env: Env): Config {
  const result = schema.safeParse(env);
  // Variables that need each other are checked on the raw text, so they are reported together
  // with any malformed variable instead of only after it is fixed.
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((i) => ({
          variable: String(i.path[0] ?? "config"),
          message: i.message,
        }))),
    ...missingCompanions(env),
  ];
  if (!result.success || problems.length) throw new ConfigError(problems);
  return assemble(result.data);
}

function missingCompanions(env: Env): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  const given = (variable: keyof Parsed) => empty(env[variable]) !== undefined;
  const need = (variable: keyof Parsed, why: string) => {
    if (!given(variable)) problems.push({ variable, message: `is required ${why}` });
  };
  if (env.STORAGE_URL?.trim().startsWith("s3:")) {
    need("S3_ACCESS_KEY_ID", "with s3:// storage");
    need("S3_SECRET_ACCESS_KEY", "with s3:// storage");
  }
  if (env.STORAGE_URL?.trim().startsWith("r2:")) {
    // The binding streams files; the S3 API (R2 API keys) is only for signed URLs and uploads.
    const why =
      env.DELIVERY_MODE?.trim() === "redirect"
        ? "with r2:// storage in redirect mode (an R2 API token's keys)"
        : given("S3_ACCESS_KEY_ID") || given("S3_SECRET_ACCESS_KEY")
          ? "together with the other R2 API key"
          : null;
    if (why) {
      need("S3_ACCESS_KEY_ID", why);
      need("S3_SECRET_ACCESS_KEY", why);
      if (!given("S3_ENDPOINT") && !given("R2_ACCOUNT_ID"))
        problems.push({
          variable: "R2_ACCOUNT_ID",
          message: `is required ${why} (or S3_ENDPOINT=https://<account>.r2.cloudflarestorage.com)`,
        });
    }
  }
  if (env.AUTH?.trim() === "supabase") {
    need("SUPABASE_URL", "when AUTH=supabase");
    need("SUPABASE_ANON_KEY", "when AUTH=supabase");
  }
  const mail = mailKind(env.MAIL_URL?.trim() ?? "");
  if (mail !== "outbox")
    need("MAIL_FROM", "when MAIL_URL sends real mail (e.g. Shop Name <shop@example.com>)");
  if (mail === "http")
    need(
      "MAIL_API_KEY",
      "with an HTTP mail API in MAIL_URL (the provider's key, sent as a Bearer token)",
    );
  if (given("STRIPE_SECRET_KEY")) {
    need(
      "STRIPE_WEBHOOK_SECRET",
      "when STRIPE_SECRET_KEY is set (Stripe dashboard > Webhooks > Signing secret)",
    );
  }
  return problems;
}

function assemble(v: Parsed): Config {
  let storage: Config["storage"];
  const endpoint =
    v.S3_ENDPOINT ??
    (v.R2_ACCOUNT_ID ? `https://${v.R2_ACCOUNT_ID}.r2.cloudflarestorage.com` : undefined);
  const region =
    v.S3_REGION ?? (endpoint?.includes(".r2.cloudflarestorage.com") ? "auto" : "us-east-1");
  const access: S3Access = {
    endpoint: endpoint ?? `https://s3.${region}.amazonaws.com`,
    region,
    accessKeyId: v.S3_ACCESS_KEY_ID ?? "",
    secretAccessKey: v.S3_SECRET_ACCESS_KEY ?? "",
  };
  const bucket = v.STORAGE_URL.slice("s3://".length).replace(/\/$/, "");
  if (v.STORAGE_URL.startsWith("file:")) {
    storage = { kind: "local", root: v.STORAGE_URL.slice("file:".length) };
  } else if (v.STORAGE_URL.startsWith("r2:")) {
    const s3 = v.S3_ACCESS_KEY_ID && endpoint ? access : null;
    storage = { kind: "r2", bucket, binding: v.R2_BINDING, s3 };
  } else {
    storage = { kind: "s3", bucket, ...access };
  }

  let auth: Config["auth"] = { kind: "builtin" };
  if (v.AUTH === "supabase") {
    auth = {
      kind: "supabase",
      url: (v.SUPABASE_URL ?? "").replace(/\/$/, ""),
      anonKey: v.SUPABASE_ANON_KEY ?? "",
    };
  }

  const dialect = v.DATABASE_URL.startsWith("sqlite:") ? "sqlite" : "postgres";
  return {
    port: v.PORT,
    host: v.HOST,
    trustProxy: v.TRUST_PROXY ?? null,
    publicUrl: (v.PUBLIC_URL ?? `http://localhost:${v.PORT}`).replace(/\/+$/, ""),
    database: {
      url: v.DATABASE_URL,
      dialect,
      poolMax: v.DATABASE_POOL_MAX ?? 10,
      statementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT * 1000,
    },
    storage,
    delivery: {
      // Streaming from the R2 binding costs no signing and no extra hop (DESIGN section 7).
      mode: v.DELIVERY_MODE ?? (storage.kind === "s3" ? "redirect" : "proxy"),
      urlTtlSeconds: v.DOWNLOAD_URL_TTL,
      tokenTtlSeconds: v.DOWNLOAD_TOKEN_TTL,
      tokenMaxUses: v.DOWNLOAD_TOKEN_MAX_USES ?? null,
    },
    maxUploadBytes: v.MAX_UPLOAD_SIZE,
    refundRevokesAccess: v.REFUND_REVOKES_ACCESS === "true",
    checkout: {
      automaticTax: v.CHECKOUT_AUTOMATIC_TAX === "true",
      taxIdCollection: v.CHECKOUT_TAX_ID_COLLECTION === "true",
      invoiceCreation: v.CHECKOUT_INVOICE_CREATION === "true",
      promotionCodes: v.CHECKOUT_PROMOTION_CODES === "true",
    },
    sharing: {
      enabled: v.SHARING_DETECTION === "true",
      networks: v.SHARING_NETWORKS ?? 5,
      devices: v.SHARING_DEVICES ?? 4,
      windowHours: Math.max(1, Math.round(v.SHARING_WINDOW / 3600)),
    },
    webhookAllowPrivateUrls: v.WEBHOOK_ALLOW_PRIVATE_URLS === "true",
    stripe: {
      ...(v.STRIPE_SECRET_KEY ? { secretKey: v.STRIPE_SECRET_KEY } : {}),
      ...(v.STRIPE_WEBHOOK_SECRET ? { webhookSecret: v.STRIPE_WEBHOOK_SECRET } : {}),
      ...(v.STRIPE_API_URL ? { apiUrl: v.STRIPE_API_URL.replace(/\/$/, "") } : {}),
    },
    auth,
    mail: {
      kind: mailKind(v.MAIL_URL),
      url: v.MAIL_URL,
      from: v.MAIL_FROM ?? "Tollgate <no-reply@localhost>",
      ...(mailKind(v.MAIL_URL) === "http" && v.MAIL_API_KEY ? { apiKey: v.MAIL_API_KEY } : {}),
    },
    shopName: v.SHOP_NAME,
    ...(v.SESSION_SECRET ? { sessionSecret: v.SESSION_SECRET } : {}),
    adminEmails: v.ADMIN_EMAILS,
    ...(v.ADMIN_TOKEN ? { adminToken: v.ADMIN_TOKEN } : {}),
    licenseRateLimit: v.LICENSE_RATE_LIMIT,
    releaseMailRate: v.RELEASE_MAIL_RATE,
    clamd: v.CLAMD_URL ? clamdAddress(v.CLAMD_URL) : null,
    downloadReminderAfterMs:
      v.DOWNLOAD_REMINDER_AFTER === null ? null : v.DOWNLOAD_REMINDER_AFTER * 1000,
    ...(v.LICENSE_SIGNING_KEY ? { licenseSigningKeys: v.LICENSE_SIGNING_KEY } : {}),
    // A zero interval would spin: a second is the shortest.
    jobs: {
      housekeepingMs: Math.max(1, v.HOUSEKEEPING_INTERVAL) * 1000,
      reconcileMs: Math.max(1, v.RECONCILE_INTERVAL) * 1000,
    },
  };
}

export type TrustProxy = { hops: number } | { addresses: string[] };

const TRUST_KEYWORDS = ["loopback", "linklocal", "uniquelocal"];

/** `2` or `10.0.0.0/8, loopback`; null when it is neither. Addresses are checked by the runtime. */
export function parseTrustProxy(text: string): TrustProxy | null {
  if (/^\d+$/.test(text))
    return Number(text) > 0 && Number(text) < 100 ? { hops: Number(text) } : null;
  const addresses = text.split(",").map((a) => a.trim());
  const looksRight = (a: string) =>
    TRUST_KEYWORDS.includes(a) || /^[\da-f.:]+(\/\d{1,3})?$/i.test(a);
  return addresses.every(looksRight) ? { addresses } : null;
}

/** The embedded shape (SQLite + local folder) may generate its own secrets into ./data. */
export function isEmbedded(config: Config): boolean {
  return config.database.dialect === "sqlite" && config.storage.kind === "local";
}

/** An Ed25519 key as a JWK: `x` the public key, `d` the private one (required of the first). */
export interface SigningKey {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d?: string;
  kid?: string;
}

/** What is wrong with CLAMD_URL, in words; null when it is a usable tcp://host:port. */
function clamdUrlProblem(v: string): string | null {
  const example = "tcp://127.0.0.1:3310";
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    return `must be clamd's TCP socket as a URL like ${example} (got "${v}")`;
  }
  if (parsed.protocol === "unix:")
    return `must be a TCP address like ${example}: set TCPSocket 3310 and TCPAddr in clamd.conf (a unix socket is not supported)`;
  if (parsed.protocol !== "tcp:") return `must start with tcp://, like ${example}`;
  if (!parsed.hostname) return `names no host; use a URL like ${example}`;
  if (!parsed.port)
    return `names no port; clamd listens where clamd.conf's TCPSocket says, usually ${example}`;
  if (parsed.pathname && parsed.pathname !== "/") return `must have no path, like ${example}`;
  return null;
}

function clamdAddress(v: string): { host: string; port: number } {
  const parsed = new URL(v);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(parsed.port) };
}

/** The keys of LICENSE_SIGNING_KEY: one JWK, or a JWK Set; throws what is wrong with them. */
function signingKeys(value: unknown): SigningKey[] {
  const list =
    value && typeof value === "object" && "keys" in value
      ? (value as { keys: unknown }).keys
      : [value];
  if (!Array.isArray(list) || list.length === 0) throw new Error("no key found");
  return list.map((k, i) => {
    const key = k as Partial<SigningKey>;
    const b64url = /^[A-Za-z0-9_-]{43}$/;
    if (key?.kty !== "OKP" || key.crv !== "Ed25519")
      throw new Error(`key ${i + 1} is not Ed25519 (kty OKP, crv Ed25519)`);
    if (!b64url.test(key.x ?? "")) throw new Error(`key ${i + 1} has no public part x`);
    if (i === 0 && !b64url.test(key.d ?? ""))
      throw new Error("the first key has no private part d");
    return {
      kty: "OKP",
      crv: "Ed25519",
      x: key.x as string,
      ...(key.d ? { d: key.d } : {}),
      ...(typeof key.kid === "string" && key.kid ? { kid: key.kid } : {}),
    };
  });
}
