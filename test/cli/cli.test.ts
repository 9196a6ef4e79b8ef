import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATIENCE_MS } from "../support/patience.ts";

/**
 * The `tollgate` CLI as a user runs it: `node bin/tollgate.js ...` in its own process, against a
 * SQLite file and a files folder in a temp dir. Each start costs a few tenths of a second, so
 * the steps share one shop and independent commands run side by side.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const PUBLIC_URL = "http://localhost:9999";
const TOLLGATE_VARS =
  /^(PORT|PUBLIC_URL|DATABASE_.*|STORAGE_URL|S3_.*|DELIVERY_MODE|DOWNLOAD_.*|MAX_UPLOAD_SIZE|STRIPE_.*|AUTH|SUPABASE_.*|MAIL_.*|SHOP_NAME|SESSION_SECRET|ADMIN_.*|LICENSE_.*|TOLLGATE_.*)$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function envFor(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !TOLLGATE_VARS.test(name));
  return {
    ...Object.fromEntries(inherited),
    DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
    STORAGE_URL: `file:${join(dir, "files")}`,
    PUBLIC_URL,
    ...extra,
  };
}

function tollgate(dir: string, args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["bin/tollgate.js", ...args], {
      cwd: ROOT,
      env: envFor(dir, extra),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // `serve` that wrongly starts would never exit on its own
    const timer = setTimeout(() => child.kill("SIGKILL"), PATIENCE_MS);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let base: string;
let shop: string;
const run = (args: string[], extra?: Record<string, string>) => tollgate(shop, args, extra);

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(shop, "t.db"), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "tollgate-cli-"));
  shop = join(base, "shop");
  mkdirSync(shop);
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe("tollgate --help", () => {
  // Ten CLI processes start at once: on a busy two-core machine that takes a while.
  it("describes the CLI and every command without touching the shop", async () => {
    const dir = join(base, "help");
    const [root, ...commands] = await Promise.all([
      tollgate(dir, ["--help"]),
      tollgate(dir, ["serve", "--help"]),
      tollgate(dir, ["migrate", "--help"]),
      tollgate(dir, ["product", "add", "--help"]),
      tollgate(dir, ["product", "list", "--help"]),
      tollgate(dir, ["asset", "add", "--help"]),
      tollgate(dir, ["grant", "--help"]),
      tollgate(dir, ["revoke", "--help"]),
      tollgate(dir, ["token", "--help"]),
      tollgate(dir, ["doctor", "--help"]),
    ]);
    expect(root?.code).toBe(0);
    expect(root?.stdout).toContain("Usage: tollgate");
    for (const name of [
      "serve",
      "migrate",
      "product",
      "asset",
      "grant",
      "revoke",
      "token",
      "license",
      "doctor",
    ])
      expect(root?.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, "m"));

    const expected: [string, string[]][] = [
      ["Usage: tollgate serve", ["--demo", "--host <host>"]],
      ["Usage: tollgate migrate", ["up to date"]],
      ["Usage: tollgate product add", ["--slug <slug>", "--name <name>", "--price <minor>"]],
      ["Usage: tollgate product list", ["list every product"]],
      ["Usage: tollgate asset add [options] <slug> <file>", ["--content-type", "--name"]],
      ["Usage: tollgate grant [options] <email> <slug>", ["access"]],
      ["Usage: tollgate revoke [options] [email] [slug]", ["--id <entitlementId>", "--reason"]],
      ["Usage: tollgate token [options] <email> <slug>", ["--expires <duration>", "--max-uses"]],
      ["Usage: tollgate doctor", ["check configuration"]],
    ];
    commands.forEach((result, i) => {
      const [usage, mentions] = expected[i] ?? ["", []];
      expect(result.code, usage).toBe(0);
      expect(result.stdout).toContain(usage);
      for (const text of mentions) expect(result.stdout).toContain(text);
    });
    expect(existsSync(join(dir, "t.db"))).toBe(false);
  });
});

describe("a shop run from the CLI", () => {
  it("migrate brings the database up to date once", async () => {
    const first = await run(["migrate"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Applied: 0001_initial");
    const again = await run(["migrate"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("The database is up to date.");
  });

  it("product add creates paid, free and subscription products", async () => {
    const [paid, free, sub] = await Promise.all([
      run(["product", "add", "--slug", "kit", "--name", "Starter Kit", "--price", "1900"]),
      run(["product", "add", "--slug", "freebie", "--name", "Freebie", "--kind", "free"]),
      run([
        ...["product", "add", "--slug", "club", "--name", "Club"],
        ...["--kind", "subscription", "--price", "500", "--currency", "eur", "--interval", "month"],
      ]),
    ]);
    expect(paid?.code).toBe(0);
    expect(paid?.stdout).toContain("Created kit: Starter Kit (one_time, $19.00)");
    expect(paid?.stdout).toContain(`Product page: ${PUBLIC_URL}/p/kit`);
    expect(free?.code).toBe(0);
    expect(free?.stdout).toContain("Created freebie: Freebie (free, free)");
    expect(sub?.code).toBe(0);
    expect(sub?.stdout).toContain("Created club: Club (subscription");

    const rows = query<{ slug: string; kind: string; price_amount: number; interval: string }>(
      "select slug, kind, price_amount, currency, interval from products order by slug",
    );
    expect(rows).toEqual([
      { slug: "club", kind: "subscription", price_amount: 500, currency: "eur", interval: "month" },
      { slug: "freebie", kind: "free", price_amount: 0, currency: "usd", interval: null },
      { slug: "kit", kind: "one_time", price_amount: 1900, currency: "usd", interval: null },
    ]);
  });

  it("product add refuses bad input with exit code 1 and creates nothing", async () => {
    const attempts: [string[], RegExp][] = [
      [["--slug", "Bad Slug!", "--name", "X", "--price", "100"], /slug: use 1-64 lowercase/],
      [["--slug", "no-price", "--name", "X"], /price: is required for a paid product/],
      [
        ["--slug", "no-interval", "--name", "X", "--kind", "subscription", "--price", "500"],
        /interval: is required for a subscription/,
      ],
      [["--slug", "weird", "--name", "X", "--kind", "weird", "--price", "500"], /kind:/],
      [["--slug", "cents", "--name", "X", "--price", "12.50"], /--price.*must be a whole number/],
      [["--slug", "kit", "--name", "Again", "--price", "100"], /slug "kit" already exists/],
    ];
    const results = await Promise.all(attempts.map(([args]) => run(["product", "add", ...args])));
    results.forEach((result, i) => {
      expect(result.code, attempts[i]?.[0].join(" ")).toBe(1);
      expect(result.stderr).toMatch(attempts[i]?.[1] ?? /./);
      expect(result.stdout).not.toContain("Created");
    });
    const slugs = query<{ slug: string }>("select slug from products order by slug");
    expect(slugs.map((r) => r.slug)).toEqual(["club", "freebie", "kit"]);
  });

  it("product list shows every product with its kind and price", async () => {
    const list = await run(["product", "list"]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^SLUG\s+NAME\s+KIND\s+PRICE\s+STATUS$/);
    expect(lines).toHaveLength(4);
    expect(list.stdout).toMatch(/^kit\s+Starter Kit\s+one_time\s+\$19\.00\s+published$/m);
    expect(list.stdout).toMatch(/^freebie\s+Freebie\s+free\s+free\s+published$/m);
    expect(list.stdout).toMatch(/^club\s+Club\s+subscription\s+\S+\s+published$/m);
  });

  it("asset add stores the file, prints its size and sha256, and versions a re-upload", async () => {
    const first = randomBytes(2_500_000); // several 1 MiB chunks
    const second = randomBytes(1234);
    mkdirSync(join(base, "v2"));
    writeFileSync(join(base, "bundle.zip"), first);
    writeFileSync(join(base, "v2", "bundle.zip"), second);

    const up1 = await run(["asset", "add", "kit", join(base, "bundle.zip")]);
    expect(up1.stderr).toBe("");
    expect(up1.code).toBe(0);
    expect(up1.stdout).toContain("Uploaded bundle.zip (version 1) to kit");
    expect(up1.stdout).toMatch(/size\s+.*\(2500000 bytes\)/);
    expect(up1.stdout).toMatch(new RegExp(`sha256\\s+${sha256(first)}`));

    const up2 = await run(["asset", "add", "kit", join(base, "v2", "bundle.zip")]);
    expect(up2.code).toBe(0);
    expect(up2.stdout).toContain("Uploaded bundle.zip (version 2) to kit");
    expect(up2.stdout).toMatch(/\(1234 bytes\)/);
    expect(up2.stdout).toMatch(new RegExp(`sha256\\s+${sha256(second)}`));

    const assets = query<{ version: number; active: number; size: number; storage_key: string }>(
      "select version, active, size, sha256, storage_key from assets order by version",
    );
    expect(assets.map(({ version, active, size }) => ({ version, active, size }))).toEqual([
      { version: 1, active: 0, size: 2_500_000 },
      { version: 2, active: 1, size: 1234 },
    ]);
    // what the buyer would download is byte for byte what was uploaded
    expect(readFileSync(join(shop, "files", assets[0]?.storage_key ?? "?")).equals(first)).toBe(
      true,
    );
    expect(readFileSync(join(shop, "files", assets[1]?.storage_key ?? "?")).equals(second)).toBe(
      true,
    );
  });

  it("asset add names an unknown product or a missing file", async () => {
    const [unknown, missing] = await Promise.all([
      run(["asset", "add", "nope", join(base, "bundle.zip")]),
      run(["asset", "add", "kit", join(base, "missing.zip")]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Error: There is no such product.");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Error: ${join(base, "missing.zip")} is not a file.`);
    expect(query("select id from assets")).toHaveLength(2);
  });

  it("grant gives access and token makes a download link for it", async () => {
    const granted = await run(["grant", "Buyer@Example.com", "kit"]);
    expect(granted.code).toBe(0);
    expect(granted.stdout).toMatch(/Granted kit to buyer@example\.com \(entitlement ent_/);

    const before = Date.now();
    const [link, stranger, badEmail, zeroUses, badExpiry] = await Promise.all([
      run(["token", "buyer@example.com", "kit", "--expires", "1h", "--max-uses", "3"]),
      run(["token", "stranger@example.com", "kit"]),
      run(["grant", "not-an-email", "kit"]),
      run(["token", "buyer@example.com", "kit", "--max-uses", "0"]),
      run(["token", "buyer@example.com", "kit", "--expires", "soon"]),
    ]);

    expect(link?.code).toBe(0);
    expect(link?.stdout).toMatch(/^http:\/\/localhost:9999\/d\/tgd_[A-Za-z0-9_-]{43}$/m);
    expect(link?.stdout).toContain("3 download(s)");
    const tokens = query<{ expires_at: number; max_uses: number | null }>(
      "select expires_at, max_uses from delivery_tokens",
    );
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.max_uses).toBe(3);
    expect(tokens[0]?.expires_at).toBeGreaterThanOrEqual(before + 3600_000);
    expect(tokens[0]?.expires_at).toBeLessThan(Date.now() + 3600_000);

    expect(stranger?.code).toBe(1);
    expect(stranger?.stderr).toContain("stranger@example.com has no access to kit");
    expect(stranger?.stdout).not.toContain("/d/");
    expect(badEmail?.code).toBe(1);
    expect(badEmail?.stderr).toContain("email: must be an email address");
    // 0 must not silently mean "unlimited"
    expect(zeroUses?.code).toBe(1);
    expect(zeroUses?.stderr).toMatch(/maxUses must be a whole number of at least 1/);
    expect(badExpiry?.code).toBe(1);
    expect(badExpiry?.stderr).toMatch(/duration like 90m, 24h or 7d/);
  });

  it("revoke takes access away, and no new link can be made", async () => {
    const revoked = await run(["revoke", "BUYER@example.com", "kit", "--reason", "chargeback"]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain("Revoked 1 entitlement(s) of buyer@example.com for kit.");
    expect(query("select id from entitlements where status = 'revoked'")).toHaveLength(1);

    const [again, link] = await Promise.all([
      run(["revoke", "buyer@example.com", "kit"]),
      run(["token", "buyer@example.com", "kit"]),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("buyer@example.com had no active access to kit.");
    expect(link.code).toBe(1);
    expect(link.stderr).toMatch(/buyer@example\.com has no access to kit: .*revoked/);
  });

  it("doctor passes a good embedded shop and names what is wrong otherwise", async () => {
    const [good, badTtl, noDatabase, serve] = await Promise.all([
      run(["doctor"]),
      run(["doctor"], { DOWNLOAD_URL_TTL: "abc" }),
      run(["doctor"], {
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/x",
        SESSION_SECRET: "s".repeat(40),
      }),
      run(["serve"], { DOWNLOAD_URL_TTL: "abc" }),
    ]);

    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/✓ database .*reachable and up to date/);
    expect(good.stdout).toMatch(/✓ storage .*reachable and writable/);
    expect(good.stdout).toContain("No problems found.");
    // The embedded shop signs licence files with the key it generated beside its database.
    expect(good.stdout).toContain(
      `✓ licences  licence files are signed with a key generated in ${join(shop, "secrets.json")}`,
    );

    expect(badTtl.code).toBe(1);
    expect(badTtl.stdout).toMatch(/✗ config\s+DOWNLOAD_URL_TTL must be a duration .*"abc"/);

    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stdout).toMatch(/✗ database\s+DATABASE_URL postgres:\/\/.*not reachable/);
    expect(noDatabase.stdout).toMatch(/problem\(s\) found/);
    // On Postgres without LICENSE_SIGNING_KEY the key comes from SESSION_SECRET: a warning.
    expect(noDatabase.stdout).toMatch(
      /^! licences {2}LICENSE_SIGNING_KEY is not set: .*derived from SESSION_SECRET, so changing that secret would invalidate every offline licence file .*npx tollgate license keygen and set LICENSE_SIGNING_KEY/m,
    );

    expect(serve.code).not.toBe(0);
    expect(serve.code).not.toBeNull(); // exited by itself, not killed by the timeout
    expect(serve.stderr).toContain("DOWNLOAD_URL_TTL");
    expect(serve.stdout).not.toContain("Tollgate is running");
  });
});
