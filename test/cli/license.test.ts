import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { calculateJwkThumbprint, importJWK, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";

/**
 * `tollgate license ...` and the product commands' licence options as a seller runs them: the
 * real CLI in its own process against a SQLite shop in a temp folder. The machines are written
 * into the database as the app's activations would be.
 */
describe("tollgate license", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[], extra: Record<string, string> = {}) =>
    cli(args, { ...env, ...extra });
  const sqlite = (readonly: boolean) => new Database(join(dir, "t.db"), { readonly });
  function query<T>(sql: string, ...params: unknown[]): T[] {
    const db = sqlite(true);
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  let id = "";
  let key = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-license-cli-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      STORAGE_URL: `file:${join(dir, "files")}`,
      PUBLIC_URL: "http://localhost:9999",
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says how to use each command, with examples", async () => {
    const helps = await Promise.all([
      run(["license", "--help"]),
      run(["license", "list", "--help"]),
      run(["license", "limit", "--help"]),
      run(["license", "reset", "--help"]),
      run(["license", "revoke", "--help"]),
      run(["license", "keygen", "--help"]),
      run(["product", "update", "--help"]),
    ]);
    for (const help of helps) expect(help.code).toBe(0);
    const [group, list, limit, reset, revoke, keygen, update] = helps.map((h) => h.stdout);
    for (const name of ["list", "show", "limit", "reset", "revoke", "keygen"])
      expect(group).toMatch(new RegExp(`^\\s+${name}\\b`, "m"));
    expect(list).toContain("--email <email>");
    expect(list).toContain("--product <slug>");
    expect(list).toContain("--json");
    expect(list).toContain("$ tollgate license list --email buyer@example.com");
    expect(limit).toContain("Usage: tollgate license limit [options] <id> <n|none>");
    expect(limit).toContain("$ tollgate license limit lic_0123456789abcdef none");
    expect(reset).toContain("--activation <id-or-fingerprint>");
    expect(revoke).toContain("--reason <text>");
    expect(keygen).toContain("LICENSE_SIGNING_KEY");
    expect(update).toContain("--license <on|off>");
    expect(update).toContain("--activation-limit <n|none>");
    expect(update).toContain("--license-expires <with-access|never>");
    expect(update).toContain("$ tollgate product update my-app --license on --activation-limit 3");
  });

  it("product add and update set a product's licence keys, and refuse what is not a setting", async () => {
    const added = await run([
      ...["product", "add", "--slug", "app", "--name", "Desktop App", "--price", "4900"],
      ...["--license", "on", "--activation-limit", "2"],
    ]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    expect(added.stdout).toContain("Licence keys: on, 2 machines per key, keys end with access.");

    const [never, badSwitch, badLimit, nothing] = await Promise.all([
      run(["product", "update", "app", "--license-expires", "never"]),
      run(["product", "update", "app", "--license", "maybe"]),
      run(["product", "update", "app", "--activation-limit", "0"]),
      run(["product", "update", "app"]),
    ]);
    expect(never.code).toBe(0);
    expect(never.stdout).toContain("Updated app: Desktop App (one_time, $49.00)");
    expect(never.stdout).toContain("Licence keys: on, 2 machines per key, keys never expire.");
    expect(badSwitch.code).toBe(1);
    expect(badSwitch.stderr).toContain('use "on" or "off"');
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain('use a whole number of machines (at least 1), or "none"');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("Error: Nothing to change");
    expect(
      query(
        "select license_enabled, license_activation_limit, license_expires_with_access from products",
      ),
    ).toEqual([
      { license_enabled: 1, license_activation_limit: 2, license_expires_with_access: 0 },
    ]);

    // Turned off, then on again: the owner from meanwhile is given a key when keys come back on.
    const off = await run(["product", "update", "app", "--license", "off"]);
    expect(off.stdout).toContain("Licence keys: off");
    expect((await run(["grant", "buyer@example.com", "app"])).code).toBe(0);
    expect(query("select id from licenses")).toHaveLength(0);
    const on = await run(["product", "update", "app", "--license", "on"]);
    expect(on.stdout).toContain("Everyone who owns it now has a key");
    const [row] = query<{ id: string; key: string }>("select id, key from licenses");
    id = row?.id ?? "";
    key = row?.key ?? "";
    expect(key).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
  });

  it("lists and shows keys with owner, status and every activation", async () => {
    const db = sqlite(false);
    const seen = Date.parse("2026-03-01T10:00:00Z");
    const insert = db.prepare(
      "insert into license_activations (id, license_id, fingerprint, label, ip, first_seen_at, last_seen_at) values (?, ?, ?, ?, ?, ?, ?)",
    );
    insert.run("act_one", id, "fp-one", "Work laptop", "203.0.113.7", seen, seen + 60_000);
    insert.run("act_two", id, "fp-two", null, null, seen + 1000, seen + 1000);
    db.close();

    const [list, byEmail, json, none, show, showJson, missing] = await Promise.all([
      run(["license", "list"]),
      run(["license", "list", "--email", "BUYER@example.com", "--product", "app"]),
      run(["license", "list", "--email", "buyer@example.com", "--json"]),
      run(["license", "list", "--email", "nobody@example.com"]),
      run(["license", "show", id]),
      run(["license", "show", id, "--json"]),
      run(["license", "show", "lic_nope"]),
    ]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+KEY\s+EMAIL\s+PRODUCT\s+STATUS\s+ACTIVATIONS$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${id}\\s+${key}\\s+buyer@example\\.com\\s+app\\s+active\\s+2 of 2$`),
    );
    expect(byEmail.stdout).toContain(key);
    const listed = JSON.parse(json.stdout) as { licenses: { id: string; key: string }[] };
    expect(listed.licenses.map((l) => [l.id, l.key])).toEqual([[id, key]]);
    expect(none.stdout.trim()).toBe("No licence keys match.");

    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Licence ${id}`);
    expect(show.stdout).toMatch(/^ {2}owner\s+buyer@example\.com$/m);
    expect(show.stdout).toMatch(/^ {2}order\s+granted$/m);
    expect(show.stdout).toMatch(/^ {2}expires\s+never$/m);
    expect(show.stdout).toMatch(/^ {2}limit\s+2 machines \(the product's\)$/m);
    expect(show.stdout).toMatch(
      /^act_one\s+fp-one\s+Work laptop\s+2026-03-01T10:00\s+2026-03-01T10:01\s+203\.0\.113\.7$/m,
    );
    expect(show.stdout).toMatch(/^act_two\s+fp-two\s+2026-03-01T10:00/m);
    expect(JSON.parse(showJson.stdout)).toMatchObject({
      id,
      key,
      status: "active",
      activationCount: 2,
      activations: [{ fingerprint: "fp-one", ip: "203.0.113.7" }, { fingerprint: "fp-two" }],
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Error: There is no such licence.");
  });

  it("sets one customer's limit, frees machines, and revokes the key", async () => {
    const raised = await run(["license", "limit", id, "5"]);
    expect(raised.code).toBe(0);
    expect(raised.stdout).toContain(
      `${id} may now be active on 5 machines (this customer's own); 2 of 5 in use.`,
    );
    expect(query("select activation_limit from licenses")).toEqual([{ activation_limit: 5 }]);
    const [back, zero] = await Promise.all([
      run(["license", "limit", id, "none", "--json"]),
      run(["license", "limit", id, "0"]),
    ]);
    expect(JSON.parse(back.stdout)).toMatchObject({ activationLimit: 2, ownLimit: false });
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('or "none" for the product\'s limit (got "0")');
    expect(query("select activation_limit from licenses")).toEqual([{ activation_limit: null }]);

    const one = await run(["license", "reset", id, "--activation", "fp-one"]);
    expect(one.stdout).toContain(`Freed 1 machine of ${id}; 1 of 2 in use.`);
    const gone = await run(["license", "reset", id, "--activation", "fp-one"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("This licence has no such activation.");
    const all = await run(["license", "reset", id, "--json"]);
    expect(JSON.parse(all.stdout)).toMatchObject({ freed: 1, license: { activationCount: 0 } });
    expect(query("select id from license_activations")).toEqual([]);

    const revoked = await run(["license", "revoke", id, "--reason", "shared publicly"]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${id} (${key}): shared publicly.`);
    const again = await run(["license", "revoke", id]);
    expect(again.stdout).toMatch(new RegExp(`${id} was already revoked on .*: shared publicly\\.`));
    const shown = await run(["license", "show", id]);
    expect(shown.stdout).toMatch(/^ {2}status\s+revoked: shared publicly$/m);
    expect(query("select revoked_reason from licenses")).toEqual([
      { revoked_reason: "shared publicly" },
    ]);
  });

  it("keygen prints a private key that signs licence files and that doctor accepts", async () => {
    const [first, second] = await Promise.all([
      run(["license", "keygen"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/never-opened" }),
      run(["license", "keygen"]),
    ]);
    expect(first.code).toBe(0);
    const jwk = JSON.parse(first.stdout) as Record<string, string>;
    expect(Object.keys(jwk).sort()).toEqual(["crv", "d", "kty", "x"]);
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(first.stderr).toContain("set it as LICENSE_SIGNING_KEY");
    expect(second.stdout).not.toBe(first.stdout);

    const file = await new SignJWT({ product: "app" })
      .setProtectedHeader({ alg: "EdDSA" })
      .setExpirationTime("1h")
      .sign(await importJWK(jwk, "EdDSA"));
    const { d: _private, ...publicJwk } = jwk;
    const verified = await jwtVerify(file, await importJWK(publicJwk, "EdDSA"));
    expect(verified.payload.product).toBe("app");

    const kid = await calculateJwkThumbprint(publicJwk);
    const set = JSON.stringify({ keys: [jwk, { ...JSON.parse(second.stdout), d: undefined }] });
    const doctor = await run(["doctor"], { LICENSE_SIGNING_KEY: set });
    expect(doctor.stdout).toContain(
      `✓ licences  LICENSE_SIGNING_KEY signs licence files with key ${kid}; 2 keys published at http://localhost:9999/.well-known/jwks.json`,
    );
  });
});
