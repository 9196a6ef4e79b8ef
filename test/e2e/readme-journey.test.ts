import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli.ts";
import { type RunningServer, startServer } from "../support/server.ts";

/** The README's walk-through, against a real `tollgate serve --demo` process and the real CLI. */
describe("the README journey on a real server", () => {
  let server: RunningServer;
  let adminToken: string;
  beforeAll(async () => {
    server = await startServer(["--demo"]);
    adminToken = /Admin token \(from data\/secrets\.json\): (\S+)/.exec(server.output())?.[1] ?? "";
  });
  afterAll(() => server.stop());

  const admin = (path: string) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });

  it("starts with the demo product and prints the URL and the admin token", async () => {
    expect(server.output()).toContain(`Tollgate is running: ${server.url}`);
    expect(adminToken).toMatch(/^tga_/);
    const store = await (await fetch(`${server.url}/`)).text();
    expect(store).toContain("Starter Kit (demo)");
    const products = await (await admin("/api/admin/products")).json();
    expect(products.products.map((p: { slug: string }) => p.slug)).toEqual(["starter-kit"]);
  });

  it("product add, asset add, grant, sign in from the outbox, library, download, token link", async () => {
    const file = join(server.dir, "my-kit.zip");
    const content = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    writeFileSync(file, content);
    const sha = createHash("sha256").update(content).digest("hex");

    const add = await cli(
      [
        "product",
        "add",
        "--slug",
        "my-kit",
        "--name",
        "My Kit",
        "--price",
        "1900",
        "--currency",
        "usd",
      ],
      server.env,
    );
    expect(add.code, add.stderr).toBe(0);
    const upload = await cli(["asset", "add", "my-kit", file], server.env);
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toContain(sha);
    const grant = await cli(["grant", "buyer@example.com", "my-kit"], server.env);
    expect(grant.code, grant.stderr).toBe(0);

    const asked = await fetch(`${server.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: "email=buyer%40example.com",
      redirect: "manual",
    });
    expect(asked.status).toBe(303);
    const outbox = await (await fetch(`${server.url}/dev/outbox`)).text();
    const link = /http:\/\/127\.0\.0\.1:\d+\/auth\/callback\?token=[\w-]+/.exec(outbox)?.[0];
    expect(link).toBeDefined();
    const signedIn = await fetch(link as string, { redirect: "manual" });
    expect(signedIn.status).toBe(303);
    const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0] as string;

    const page = await (await fetch(`${server.url}/library`, { headers: { cookie } })).text();
    expect(page).toContain("My Kit");
    const library = await (
      await fetch(`${server.url}/api/library`, { headers: { cookie } })
    ).json();
    const fileEntry = library.items[0].files[0];
    const download = await fetch(fileEntry.downloadUrl, { headers: { cookie } });
    expect(download.status).toBe(200);
    expect(
      createHash("sha256")
        .update(Buffer.from(await download.arrayBuffer()))
        .digest("hex"),
    ).toBe(sha);

    const token = await cli(
      ["token", "buyer@example.com", "my-kit", "--expires", "1h", "--max-uses", "1"],
      server.env,
    );
    expect(token.code, token.stderr).toBe(0);
    const tokenUrl = token.stdout.split("\n")[0] as string;
    expect(tokenUrl).toMatch(new RegExp(`^${server.url}/d/tgd_`));
    const tokenPage = await fetch(tokenUrl);
    expect(tokenPage.status).toBe(200);
    const first = await fetch(`${tokenUrl}/${fileEntry.id}`);
    expect(first.status).toBe(200);
    expect(
      createHash("sha256")
        .update(Buffer.from(await first.arrayBuffer()))
        .digest("hex"),
    ).toBe(sha);
    const second = await fetch(`${tokenUrl}/${fileEntry.id}`);
    expect(second.status).toBe(410);
  });
});
