import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStripe } from "../../src/local-stripe/index.ts";
import { cli } from "../support/cli.ts";
import { type S3TestServer, startS3Server } from "../support/s3-server.ts";
import { startSupabaseAuth } from "../support/supabase-server.ts";

/** `tollgate doctor` on production-shaped configurations says in words what works and what not. */
describe("doctor with production configuration", () => {
  let s3: S3TestServer;
  let supabase: Awaited<ReturnType<typeof startSupabaseAuth>>;
  let stripe: Awaited<ReturnType<typeof startLocalStripe>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startS3Server({ region: "auto" });
    supabase = await startSupabaseAuth();
    stripe = await startLocalStripe({
      port: 0,
      stateFile: null,
      webhookUrl: "http://127.0.0.1:9/x",
      webhookSecret: "whsec_doctor",
      log: { info() {}, warn() {}, error() {} },
    });
    const dir = mkdtempSync(join(tmpdir(), "tollgate-doctor-"));
    env = {
      DATABASE_URL: `sqlite:${join(dir, "t.db")}`,
      PUBLIC_URL: "https://shop.example.com",
      STORAGE_URL: "s3://bucket",
      S3_ENDPOINT: s3.url,
      S3_REGION: "auto",
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AUTH: "supabase",
      SUPABASE_URL: supabase.url,
      SUPABASE_ANON_KEY: supabase.anonKey,
      STRIPE_SECRET_KEY: "sk_test_doctor",
      STRIPE_WEBHOOK_SECRET: "whsec_doctor",
      STRIPE_API_URL: stripe.url,
      ADMIN_EMAILS: "owner@example.com",
    };
  });
  afterAll(async () => {
    await stripe.close();
    await supabase.close();
    await s3.close();
  });

  it("says what works", async () => {
    const run = await cli(["doctor"], env);
    expect(run.stdout).toMatch(/✓ storage\s+bucket bucket/);
    expect(run.stdout).toMatch(/✓ payments\s+Stripe test key works/);
    expect(run.stdout).toMatch(/✓ login\s+Supabase project keys found \(ES256\)/);
  });

  it("says what is wrong: bad S3 secret, missing bucket, unreachable JWKS and Stripe", async () => {
    const bad = await cli(["doctor"], {
      ...env,
      S3_SECRET_ACCESS_KEY: "wrong-secret-0123456789",
      SUPABASE_URL: "http://127.0.0.1:9",
      STRIPE_API_URL: "http://127.0.0.1:9",
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ storage/);
    expect(bad.stdout).toMatch(/✗ login\s+SUPABASE_URL: .* is not reachable/);
    expect(bad.stdout).toMatch(/✗ payments\s+Stripe is not reachable/);
    const noBucket = await cli(["doctor"], { ...env, STORAGE_URL: "s3://missing-bucket" });
    expect(noBucket.stdout).toMatch(/✗ storage.*(missing-bucket|does not exist|NoSuchBucket)/i);
  });
});
