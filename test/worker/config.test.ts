import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { buildNodeRuntime } from "../../src/runtime/node.ts";

const ACCOUNT = "0123456789abcdef0123456789abcdef";

function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("R2 settings", () => {
  it("r2://bucket streams through the binding by default, with no keys needed", () => {
    const config = parseConfig({ STORAGE_URL: "r2://tollgate-files" });
    expect(config.storage).toEqual({
      kind: "r2",
      bucket: "tollgate-files",
      binding: "FILES",
      s3: null,
    });
    expect(config.delivery.mode).toBe("proxy");
  });

  it("R2_ACCOUNT_ID and the R2 API keys give signed URLs on the account's S3 endpoint", () => {
    const config = parseConfig({
      STORAGE_URL: "r2://tollgate-files",
      R2_BINDING: "PRIVATE_FILES",
      R2_ACCOUNT_ID: ACCOUNT,
      S3_ACCESS_KEY_ID: "key-id",
      S3_SECRET_ACCESS_KEY: "key-secret",
      DELIVERY_MODE: "redirect",
    });
    expect(config.storage).toEqual({
      kind: "r2",
      bucket: "tollgate-files",
      binding: "PRIVATE_FILES",
      s3: {
        endpoint: `https://${ACCOUNT}.r2.cloudflarestorage.com`,
        region: "auto",
        accessKeyId: "key-id",
        secretAccessKey: "key-secret",
      },
    });
    expect(config.delivery.mode).toBe("redirect");
  });

  it("R2_ACCOUNT_ID also names the endpoint for s3:// storage on Node", () => {
    const config = parseConfig({
      STORAGE_URL: "s3://tollgate-files",
      R2_ACCOUNT_ID: ACCOUNT,
      S3_ACCESS_KEY_ID: "key-id",
      S3_SECRET_ACCESS_KEY: "key-secret",
    });
    expect(config.storage).toMatchObject({
      kind: "s3",
      endpoint: `https://${ACCOUNT}.r2.cloudflarestorage.com`,
      region: "auto",
    });
  });

  it("redirect mode on R2 says which keys and which account it still needs", () => {
    expect(problemsOf({ STORAGE_URL: "r2://tollgate-files", DELIVERY_MODE: "redirect" })).toEqual([
      { variable: "S3_ACCESS_KEY_ID", message: expect.stringContaining("redirect mode") },
      { variable: "S3_SECRET_ACCESS_KEY", message: expect.stringContaining("redirect mode") },
      { variable: "R2_ACCOUNT_ID", message: expect.stringContaining("S3_ENDPOINT") },
    ]);
  });

  it("half a key pair, a malformed account id or binding name are each named", () => {
    expect(
      problemsOf({ STORAGE_URL: "r2://tollgate-files", S3_ACCESS_KEY_ID: "key-id" }).map(
        (p) => p.variable,
      ),
    ).toEqual(["S3_SECRET_ACCESS_KEY", "R2_ACCOUNT_ID"]);
    expect(problemsOf({ STORAGE_URL: "r2://tollgate-files", R2_ACCOUNT_ID: "my-account" })).toEqual(
      [{ variable: "R2_ACCOUNT_ID", message: "must be the 32-character Cloudflare account id" }],
    );
    expect(problemsOf({ STORAGE_URL: "r2://tollgate-files", R2_BINDING: "my-files" })).toEqual([
      { variable: "R2_BINDING", message: "must be a binding name like FILES" },
    ]);
  });

  it("Node refuses r2:// and says what to use there instead", async () => {
    const config = parseConfig({
      DATABASE_URL: "sqlite::memory:",
      STORAGE_URL: "r2://tollgate-files",
      SESSION_SECRET: "s".repeat(40),
    });
    const error = await buildNodeRuntime(config, { migrate: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        variable: "STORAGE_URL",
        message: expect.stringContaining("s3://tollgate-files with S3_ENDPOINT=https://"),
      },
    ]);
  });
});
