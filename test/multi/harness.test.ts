import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcesses, startServers } from "../support/serverProcesses.ts";

describe("startServers: real server processes on one Postgres", () => {
  let servers: ServerProcesses;
  beforeAll(async () => {
    servers = await startServers({ count: 2 });
  });
  afterAll(() => servers?.stop());

  it("runs each process on its own port, sharing the database and the admin token", async () => {
    expect(new Set(servers.urls).size).toBe(2);
    const created = await fetch(`${servers.urls[0]}/api/admin/products`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${servers.adminToken}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ slug: "shared", name: "Shared", kind: "free" }),
    });
    expect(created.status).toBeLessThan(300);
    const listed = await fetch(`${servers.urls[1]}/api/admin/products`, {
      headers: { authorization: `Bearer ${servers.adminToken}` },
    });
    expect(await listed.text()).toContain("shared");
  });
});
