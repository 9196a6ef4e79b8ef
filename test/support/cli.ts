import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BIN = resolve(import.meta.dirname, "../../bin/tollgate.js");

/** Runs the real `tollgate` CLI with only the given Tollgate variables set (temp storage by default). */
export function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !TOLLGATE_VARS.test(k)),
  );
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...clean,
        STORAGE_URL: `file:${mkdtempSync(join(tmpdir(), "tollgate-cli-"))}`,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const TOLLGATE_VARS =
  /^(PORT|HOST|TRUST_PROXY|PUBLIC_URL|DATABASE_|STORAGE_URL|S3_|DELIVERY_MODE|DOWNLOAD_|MAX_UPLOAD|STRIPE_|AUTH|SUPABASE_|MAIL_|SHOP_NAME|SESSION_SECRET|ADMIN_|LICENSE_|CLAMD_)/;
