import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface EmbeddedSecrets {
  sessionSecret: string;
  adminToken: string;
}

/**
 * The embedded shape keeps its generated secrets beside its database, so a restart keeps signed
 * URLs and the admin token valid. Written once with mode 0600; never logged except the admin
 * token, which `npm start` prints for the local seller.
 */
export function loadOrCreateSecrets(dataDir: string): EmbeddedSecrets {
  const file = join(dataDir, "secrets.json");
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Partial<EmbeddedSecrets>;
    if (saved.sessionSecret && saved.adminToken) return saved as EmbeddedSecrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new Error(`${file} is not readable JSON; delete it to start over`);
  }
  const secrets = {
    sessionSecret: randomBytes(32).toString("hex"),
    adminToken: `tga_${randomBytes(24).toString("base64url")}`,
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
