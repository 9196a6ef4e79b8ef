import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, type Env, isEmbedded, parseConfig } from "../../src/config.ts";

/** The problems parseConfig reports for `env`, or a failure when it accepts it. */
function problemsOf(env: Env): { variable: string; message: string }[] {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

/** Expects exactly one problem, about `variable`, whose message matches `what`. */
function expectProblem(env: Env, variable: string, what: RegExp) {
  const problems = problemsOf(env);
  expect(problems).toHaveLength(1);
  expect(problems[0]?.variable).toBe(variable);
  expect(problems[0]?.message).toMatch(what);
}

const stripe = { STRIPE_SECRET_KEY: "sk_test_abc123", STRIPE_WEBHOOK_SECRET: "whsec_abc123" };
const s3Keys = { S3_ACCESS_KEY_ID: "AKIAEXAMPLE", S3_SECRET_ACCESS_KEY: "secretsecret" };

describe("parseConfig defaults", () => {
  it("runs the embedded shape with nothing set", () => {
    const config = parseConfig({});
    expect(config.port).toBe(8787);
    expect(config.publicUrl).toBe("http://localhost:8787");
    expect(config.database).toMatchObject({ url: "sqlite:./data/tollgate.db", dialect: "sqlite" });
    expect(config.storage).toEqual({ kind: "local", root: "./data/files" });
    expect(config.delivery).toEqual({
      mode: "proxy",
      urlTtlSeconds: 300,
      tokenTtlSeconds: 86400,
      tokenMaxUses: null,
    });
    expect(config.auth).toEqual({ kind: "builtin" });
    expect(config.mail.url).toBe("outbox:");
    expect(config.adminEmails).toEqual([]);
    expect(config.stripe).toEqual({});
    expect(config.sessionSecret).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(isEmbedded(config)).toBe(true);
  });

  it("treats empty and blank variables as unset", () => {
    const config = parseConfig({ PORT: "", DATABASE_URL: "  ", DOWNLOAD_URL_TTL: "", AUTH: "" });
    expect(config.port).toBe(8787);
    expect(config.database.url).toBe("sqlite:./data/tollgate.db");
    expect(config.delivery.urlTtlSeconds).toBe(300);
    expect(config.auth.kind).toBe("builtin");
  });

  it("delivers through redirects with s3 storage", () => {
    const config = parseConfig({ STORAGE_URL: "s3://my-bucket", ...s3Keys });
    expect(config.storage).toMatchObject({ kind: "s3", bucket: "my-bucket" });
    expect(config.delivery.mode).toBe("redirect");
    expect(isEmbedded(config)).toBe(false);
  });

  it("lets DELIVERY_MODE override the storage default", () => {
    expect(parseConfig({ DELIVERY_MODE: "redirect" }).delivery.mode).toBe("redirect");
    expect(
      parseConfig({ STORAGE_URL: "s3://my-bucket", ...s3Keys, DELIVERY_MODE: "proxy" }).delivery
        .mode,
    ).toBe("proxy");
  });

  it("derives PUBLIC_URL from PORT and drops a trailing slash", () => {
    expect(parseConfig({ PORT: "3000" }).publicUrl).toBe("http://localhost:3000");
    expect(parseConfig({ PUBLIC_URL: "https://shop.example.com/" }).publicUrl).toBe(
      "https://shop.example.com",
    );
  });

  it("reads Postgres, Stripe, admin and session settings", () => {
    const config = parseConfig({
      DATABASE_URL: "postgres://user:pw@db.internal:5432/shop",
      ...stripe,
      ADMIN_EMAILS: " Owner@Example.com, second@example.com ,",
      ADMIN_TOKEN: "t".repeat(24),
      SESSION_SECRET: "s".repeat(32),
      DOWNLOAD_TOKEN_MAX_USES: "5",
    });
    expect(config.database.dialect).toBe("postgres");
    expect(config.stripe).toEqual({
      secretKey: "sk_test_abc123",
      webhookSecret: "whsec_abc123",
    });
    expect(config.adminEmails).toEqual(["owner@example.com", "second@example.com"]);
    expect(config.adminToken).toBe("t".repeat(24));
    expect(config.sessionSecret).toBe("s".repeat(32));
    expect(config.delivery.tokenMaxUses).toBe(5);
  });
});

describe("parseConfig durations", () => {
  it.each([
    ["300", 300],
    ["90s", 90],
    ["5m", 300],
    ["24h", 86400],
    ["7d", 604800],
  ])("DOWNLOAD_URL_TTL=%s is %i seconds", (text, seconds) => {
    expect(parseConfig({ DOWNLOAD_URL_TTL: text }).delivery.urlTtlSeconds).toBe(seconds);
  });

  it("takes DOWNLOAD_TOKEN_TTL in the same units", () => {
    expect(parseConfig({ DOWNLOAD_TOKEN_TTL: "7d" }).delivery.tokenTtlSeconds).toBe(604800);
    expect(parseConfig({ DOWNLOAD_TOKEN_TTL: "90s" }).delivery.tokenTtlSeconds).toBe(90);
  });
});

describe("parseConfig names each bad variable and what is wrong", () => {
  it.each([
    [{ PORT: "abc" }, "PORT", /port number/],
    [{ PORT: "70000" }, "PORT", /between 0 and 65535/],
    [{ PORT: "-1" }, "PORT", /port number/],
    [{ PORT: "80.5" }, "PORT", /port number/],
    [{ PORT: "1e3" }, "PORT", /port number/],
    [{ PUBLIC_URL: "not a url" }, "PUBLIC_URL", /must be a URL like https:\/\//],
    [{ PUBLIC_URL: "ftp://shop.example.com" }, "PUBLIC_URL", /must be a URL/],
    [{ PUBLIC_URL: "https://shop.example.com/?ref=x" }, "PUBLIC_URL", /query or #fragment/],
    [{ DATABASE_URL: "mysql://root@localhost/shop" }, "DATABASE_URL", /sqlite:<path> or postgres/],
    [{ DATABASE_URL: "sqlite:" }, "DATABASE_URL", /sqlite:<path>/],
    [{ STORAGE_URL: "ftp://files.example.com" }, "STORAGE_URL", /file:<folder> or s3:\/\//],
    [{ STORAGE_URL: "s3://Bad_Bucket!", ...s3Keys }, "STORAGE_URL", /s3:\/\/<bucket>/],
    [{ DELIVERY_MODE: "other" }, "DELIVERY_MODE", /"redirect" or "proxy"/],
    [{ DOWNLOAD_URL_TTL: "8d" }, "DOWNLOAD_URL_TTL", /at most 604800 seconds.*"8d"/],
    [{ DOWNLOAD_URL_TTL: "abc" }, "DOWNLOAD_URL_TTL", /duration like 300, 90s.*"abc"/],
    [{ DOWNLOAD_URL_TTL: "0" }, "DOWNLOAD_URL_TTL", /duration/],
    [{ DOWNLOAD_TOKEN_TTL: "2h30m" }, "DOWNLOAD_TOKEN_TTL", /duration/],
    [{ DOWNLOAD_TOKEN_TTL: "400d" }, "DOWNLOAD_TOKEN_TTL", /at most/],
    [{ DOWNLOAD_TOKEN_MAX_USES: "0" }, "DOWNLOAD_TOKEN_MAX_USES", /greater than 0/],
    [{ DOWNLOAD_TOKEN_MAX_USES: "three" }, "DOWNLOAD_TOKEN_MAX_USES", /whole number/],
    // createDownloadToken refuses more than a million uses, so the default must not exceed it
    [{ DOWNLOAD_TOKEN_MAX_USES: "2000000" }, "DOWNLOAD_TOKEN_MAX_USES", /at most 1000000/],
    [{ MAX_UPLOAD_SIZE: "lots" }, "MAX_UPLOAD_SIZE", /size like 500MB/],
    [
      { STRIPE_SECRET_KEY: "pk_test_abc123", STRIPE_WEBHOOK_SECRET: "whsec_x" },
      "STRIPE_SECRET_KEY",
      /secret key \(sk_test_/,
    ],
    [{ STRIPE_SECRET_KEY: "sk_test_abc123" }, "STRIPE_WEBHOOK_SECRET", /required when STRIPE/],
    [{ ...stripe, STRIPE_WEBHOOK_SECRET: "abc" }, "STRIPE_WEBHOOK_SECRET", /whsec_/],
    [{ STRIPE_API_URL: "localhost:12111" }, "STRIPE_API_URL", /must be a URL/],
    [{ AUTH: "ldap" }, "AUTH", /"builtin" or "supabase"/],
    [{ MAIL_URL: "sendmail" }, "MAIL_URL", /outbox:, smtp:\/\//],
    [{ SESSION_SECRET: "short" }, "SESSION_SECRET", /at least 32 characters/],
    [{ ADMIN_EMAILS: "owner@example.com, bob" }, "ADMIN_EMAILS", /email addresses/],
    [{ ADMIN_TOKEN: "short" }, "ADMIN_TOKEN", /at least 24 characters/],
    [{ SHOP_NAME: "x".repeat(81) }, "SHOP_NAME", /at most 80/],
  ] as [Env, string, RegExp][])("%j -> %s", (env, variable, what) => {
    expectProblem(env, variable, what);
  });

  it("requires both S3 keys with s3:// storage", () => {
    const problems = problemsOf({ STORAGE_URL: "s3://my-bucket" });
    expect(problems.map((p) => p.variable).sort()).toEqual([
      "S3_ACCESS_KEY_ID",
      "S3_SECRET_ACCESS_KEY",
    ]);
    for (const p of problems) expect(p.message).toMatch(/required with s3:\/\//);
    expectProblem(
      { STORAGE_URL: "s3://my-bucket", S3_ACCESS_KEY_ID: "AKIA" },
      "S3_SECRET_ACCESS_KEY",
      /required/,
    );
  });

  it("requires the Supabase project with AUTH=supabase", () => {
    const problems = problemsOf({ AUTH: "supabase" });
    expect(problems.map((p) => p.variable).sort()).toEqual(["SUPABASE_ANON_KEY", "SUPABASE_URL"]);
    expect(problems[0]?.message).toMatch(/required when AUTH=supabase/);
    expectProblem(
      { AUTH: "supabase", SUPABASE_URL: "not a url", SUPABASE_ANON_KEY: "anon" },
      "SUPABASE_URL",
      /must be a URL/,
    );
  });

  it("reports every mistake at once, including the ones between variables", () => {
    const problems = problemsOf({
      PORT: "eighty",
      PUBLIC_URL: "shop",
      DATABASE_URL: "mysql://x",
      STORAGE_URL: "s3://my-bucket",
      DELIVERY_MODE: "fast",
      DOWNLOAD_URL_TTL: "abc",
      DOWNLOAD_TOKEN_MAX_USES: "0",
      STRIPE_SECRET_KEY: "sk_test_abc123",
      AUTH: "supabase",
      MAIL_URL: "bad",
      SESSION_SECRET: "short",
      ADMIN_EMAILS: "nope",
      ADMIN_TOKEN: "short",
    });
    expect(new Set(problems.map((p) => p.variable))).toEqual(
      new Set([
        "PORT",
        "PUBLIC_URL",
        "DATABASE_URL",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "DELIVERY_MODE",
        "DOWNLOAD_URL_TTL",
        "DOWNLOAD_TOKEN_MAX_USES",
        "STRIPE_WEBHOOK_SECRET",
        "SUPABASE_URL",
        "SUPABASE_ANON_KEY",
        "MAIL_URL",
        "SESSION_SECRET",
        "ADMIN_EMAILS",
        "ADMIN_TOKEN",
      ]),
    );
  });

  it("puts every problem in the error message, one line per variable", () => {
    let message = "";
    try {
      parseConfig({ PORT: "abc", DELIVERY_MODE: "fast" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("PORT: must be a port number");
    expect(message).toContain('DELIVERY_MODE: must be "redirect" or "proxy"');
  });

  it("never echoes a secret it rejects", () => {
    const secret = "sk_live_SUPERSECRET!";
    const problems = problemsOf({ STRIPE_SECRET_KEY: secret, STRIPE_WEBHOOK_SECRET: "whsec_x" });
    expect(JSON.stringify(problems)).not.toContain("SUPERSECRET");
  });
});

describe("parseConfig mail settings", () => {
  const from = { MAIL_FROM: "Kit Shop <hello@kits.example>" };
  const resend = { MAIL_URL: "https://api.resend.com/emails", MAIL_API_KEY: "re_123abc" };

  it("keeps mail in the outbox by default", () => {
    expect(parseConfig({}).mail).toEqual({
      kind: "outbox",
      url: "outbox:",
      from: "Tollgate <no-reply@localhost>",
    });
  });

  it("reads SMTP, SMTPS and an HTTP mail API", () => {
    expect(
      parseConfig({ MAIL_URL: "smtp://user:pass@smtp.example.com:587", ...from }).mail,
    ).toEqual({ kind: "smtp", url: "smtp://user:pass@smtp.example.com:587", from: from.MAIL_FROM });
    expect(parseConfig({ MAIL_URL: "smtps://u:p@smtp.example.com", ...from }).mail.kind).toBe(
      "smtp",
    );
    expect(parseConfig({ MAIL_URL: "smtp://relay.internal", ...from }).mail.kind).toBe("smtp");
    expect(parseConfig({ ...resend, MAIL_FROM: "hello@kits.example" }).mail).toEqual({
      kind: "http",
      url: "https://api.resend.com/emails",
      from: "hello@kits.example",
      apiKey: "re_123abc",
    });
    // plain http is fine to a mail API on this machine (a local test server, a sidecar)
    expect(
      parseConfig({ ...resend, ...from, MAIL_URL: "http://127.0.0.1:3000/emails" }).mail.kind,
    ).toBe("http");
  });

  it.each([
    [{ MAIL_URL: "smtp://", ...from }, /has no host/],
    [{ MAIL_URL: "smtp://user@smtp.example.com:587", ...from }, /user but no password/],
    [{ MAIL_URL: "smtp://:pass@smtp.example.com", ...from }, /password but no user/],
    [{ MAIL_URL: "smtp://u:p@smtp.example.com:465", ...from }, /use smtps:\/\/\.\.\.:465/],
    [{ MAIL_URL: "smtps://u:p@smtp.example.com:587", ...from }, /use smtp:\/\/\.\.\.:587/],
    [{ ...resend, ...from, MAIL_URL: "https://:re_123@api.resend.com/emails" }, /in MAIL_API_KEY/],
    [{ ...resend, ...from, MAIL_URL: "http://api.resend.com/emails" }, /must be https:\/\//],
    [{ MAIL_URL: "ftp://mail.example.com", ...from }, /outbox:, smtp:\/\/.*smtps:\/\//],
  ] as [Env, RegExp][])("MAIL_URL in %j is refused: %s", (env, what) => {
    expectProblem(env, "MAIL_URL", what);
  });

  it("requires MAIL_FROM for real mail and MAIL_API_KEY for an HTTP mail API", () => {
    expectProblem(
      { MAIL_URL: "smtp://u:p@smtp.example.com" },
      "MAIL_FROM",
      /required when MAIL_URL/,
    );
    expectProblem(
      { MAIL_URL: "https://api.resend.com/emails", ...from },
      "MAIL_API_KEY",
      /required with an HTTP mail API/,
    );
    expect(
      problemsOf({ MAIL_URL: "https://api.resend.com/emails" })
        .map((p) => p.variable)
        .sort(),
    ).toEqual(["MAIL_API_KEY", "MAIL_FROM"]);
  });

  it.each([
    "hello",
    "Kit Shop",
    "Kit Shop <hello@localhost>",
    "Kit Shop <hello@kits.example>\r\nBcc: everyone@example.com",
  ])("refuses MAIL_FROM=%j", (value) => {
    expectProblem({ MAIL_FROM: value }, "MAIL_FROM", /shop@example\.com or Shop Name </);
  });

  it("refuses an API key with spaces, without echoing it", () => {
    const problems = problemsOf({ ...resend, ...from, MAIL_API_KEY: "re_SUPERSECRET and more" });
    expect(problems).toEqual([
      { variable: "MAIL_API_KEY", message: "must be the mail provider's API key, without spaces" },
    ]);
  });

  it("never echoes the SMTP password of a MAIL_URL it refuses", () => {
    const problems = problemsOf({ MAIL_URL: "smtp://u:SUPERSECRET@smtp.example.com:465", ...from });
    expect(problems.map((p) => p.variable)).toEqual(["MAIL_URL"]);
    expect(JSON.stringify(problems)).not.toContain("SUPERSECRET");
  });
});

describe("parseConfig on any input (property)", () => {
  const VARIABLES = [
    "PORT",
    "PUBLIC_URL",
    "DATABASE_URL",
    "DATABASE_POOL_MAX",
    "DATABASE_STATEMENT_TIMEOUT",
    "STORAGE_URL",
    "R2_BINDING",
    "R2_ACCOUNT_ID",
    "S3_ENDPOINT",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "DELIVERY_MODE",
    "DOWNLOAD_URL_TTL",
    "DOWNLOAD_TOKEN_TTL",
    "DOWNLOAD_TOKEN_MAX_USES",
    "MAX_UPLOAD_SIZE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_URL",
    "REFUND_REVOKES_ACCESS",
    "AUTH",
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "MAIL_URL",
    "MAIL_FROM",
    "MAIL_API_KEY",
    "SHOP_NAME",
    "SESSION_SECRET",
    "ADMIN_EMAILS",
    "ADMIN_TOKEN",
  ] as const;
  /** Plausible values next to arbitrary text, so both paths (accepted, refused) are exercised. */
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.constantFrom(
      "",
      " ",
      "0",
      "8787",
      "65536",
      "-1",
      "1e3",
      "5m",
      "24h",
      "7d",
      "10GB",
      "sqlite:./x.db",
      "postgres://u:p@h:5432/d",
      "file:./files",
      "s3://bucket",
      "r2://bucket",
      "https://example.com",
      "http://localhost:1",
      "outbox:",
      "smtp://u:p@mail:587",
      "smtps://mail:465",
      "redirect",
      "proxy",
      "supabase",
      "builtin",
      "true",
      "a@b.co, c@d.co",
      "sk_test_abc",
      "whsec_abc",
      "x".repeat(40),
    ),
  );
  const env = fc.dictionary(fc.constantFrom(...VARIABLES), value, { maxKeys: 12 });

  it("accepts, or refuses with a ConfigError naming only real variables, whatever the environment", () => {
    fc.assert(
      fc.property(env, fc.dictionary(fc.string({ maxLength: 12 }), fc.string()), (known, extra) => {
        let config: ReturnType<typeof parseConfig> | null = null;
        try {
          config = parseConfig({ ...extra, ...known });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const { problems } = error as ConfigError;
          expect(problems.length).toBeGreaterThan(0);
          for (const problem of problems) {
            expect(VARIABLES).toContain(problem.variable);
            expect(problem.message.trim()).not.toBe("");
          }
          return;
        }
        expect(config.port).toBeGreaterThanOrEqual(0);
        expect(config.port).toBeLessThanOrEqual(65535);
        expect(config.publicUrl).not.toMatch(/\/$|[?#]/);
        expect(["redirect", "proxy"]).toContain(config.delivery.mode);
        expect(config.delivery.urlTtlSeconds).toBeGreaterThan(0);
        expect(config.delivery.urlTtlSeconds).toBeLessThanOrEqual(7 * 86400);
        expect(Number.isInteger(config.maxUploadBytes)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("never repeats a secret in what it says, whatever else is wrong", () => {
    // Recognisable secrets (some of them malformed, so they are the thing refused).
    const secret = fc
      .tuple(
        fc.constantFrom("", "sk_live_", "whsec_", "re_", " "),
        fc.stringMatching(/^[A-Za-z0-9]{10,20}$/),
      )
      .map(([prefix, body]) => `${prefix}SECRET${body}`);
    fc.assert(
      fc.property(env, secret, secret, secret, secret, (others, a, b, c, d) => {
        const secrets = {
          STRIPE_SECRET_KEY: a,
          STRIPE_WEBHOOK_SECRET: `${b}!`,
          S3_SECRET_ACCESS_KEY: c,
          SESSION_SECRET: d.slice(0, 20),
          ADMIN_TOKEN: a.slice(0, 12),
          MAIL_API_KEY: `${b} ${c}`,
          MAIL_URL: `smtp://user:${d}@mail.example:465`,
          DATABASE_URL: `postgres://user:${c}@db.example:5432/shop?x`,
        };
        try {
          parseConfig({ ...others, ...secrets });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const said = `${(error as Error).message}${JSON.stringify((error as ConfigError).problems)}`;
          for (const s of [a, b, c, d]) expect(said).not.toContain(s.trim().slice(0, 16));
          return;
        }
        throw new Error("a malformed secret was accepted");
      }),
      { numRuns: 500 },
    );
  });
});
