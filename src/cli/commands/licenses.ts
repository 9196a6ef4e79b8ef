import { invalidInput } from "../../core/errors.ts";
import {
  getLicense,
  listLicenses,
  resetLicense,
  revokeLicense,
  type SellerLicense,
  setLicenseLimit,
} from "../../core/licenses/sellerLicenses.ts";
import { newSigningKey } from "../../runtime/secrets.ts";
import { withRuntime } from "../run.ts";
import { printTable } from "./products.ts";

interface JsonOption {
  json?: boolean;
}

const printJson = (value: unknown) => console.log(JSON.stringify(value, null, 2));

const SOURCES: Record<string, string> = {
  purchase: "purchase",
  subscription: "subscription",
  grant: "granted",
  free: "free claim",
};

const activationsText = (l: SellerLicense) =>
  l.activationLimit === null
    ? `${l.activationCount} (no limit)`
    : `${l.activationCount} of ${l.activationLimit}`;

const machines = (n: number) => `${n} machine${n === 1 ? "" : "s"}`;

const limitText = (l: SellerLicense) =>
  `${l.activationLimit === null ? "no limit" : machines(l.activationLimit)} (${l.ownLimit ? "this customer's own" : "the product's"})`;

const owner = (l: SellerLicense) => l.owner.email ?? `account ${l.owner.userId ?? "?"}`;

export function licenseList(
  opts: { email?: string; product?: string; limit: number } & JsonOption,
) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const licenses = await listLicenses({
      ctx,
      input: {
        ...(opts.email ? { email: opts.email } : {}),
        ...(opts.product ? { product: opts.product } : {}),
        limit: opts.limit,
      },
    });
    if (opts.json) return printJson({ licenses });
    if (!licenses.length) {
      console.log(
        opts.email || opts.product
          ? "No licence keys match."
          : "No licence keys yet. Turn them on for a product with: npx tollgate product update SLUG --license on",
      );
      return;
    }
    printTable(
      ["ID", "KEY", "EMAIL", "PRODUCT", "STATUS", "ACTIVATIONS"],
      licenses.map((l) => [l.id, l.key, owner(l), l.product.slug, l.status, activationsText(l)]),
    );
  });
}

export function licenseShow(id: string, opts: JsonOption) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const license = await getLicense({ ctx, input: { id } });
    if (opts.json) return printJson(license);
    printLicense(license);
  });
}

/** `N` machines for this customer, or `none`: the product's limit again. */
export function licenseLimit(id: string, limit: string, opts: JsonOption) {
  const activationLimit = parseLimitArgument(limit);
  return withRuntime(async ({ systemCtx: ctx }) => {
    const license = await setLicenseLimit({ ctx, input: { id, changes: { activationLimit } } });
    if (opts.json) return printJson(license);
    console.log(
      `${license.id} may now be active on ${limitText(license)}; ${activationsText(license)} in use.`,
    );
  });
}

export function licenseReset(id: string, opts: { activation?: string } & JsonOption) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const result = await resetLicense({
      ctx,
      input: { id, changes: opts.activation ? { activation: opts.activation } : {} },
    });
    if (opts.json) return printJson(result);
    const { freed, license } = result;
    if (freed === 0) return console.log(`${license.id} had no activations to free.`);
    console.log(
      `Freed ${machines(freed)} of ${license.id}; ${activationsText(license)} in use. A freed machine takes a place again when the app there activates.`,
    );
  });
}

export function licenseRevoke(id: string, opts: { reason?: string } & JsonOption) {
  return withRuntime(async ({ systemCtx: ctx }) => {
    const before = await getLicense({ ctx, input: { id } });
    const license = before.revokedAt
      ? before
      : await revokeLicense({
          ctx,
          input: { id, ...(opts.reason ? { reason: opts.reason } : {}) },
        });
    if (opts.json) return printJson(license);
    if (before.revokedAt) {
      console.log(`${license.id} was already revoked on ${license.revokedAt}: ${license.reason}.`);
      return;
    }
    console.log(`Revoked ${license.id} (${license.key}): ${license.reason}.`);
    console.log(
      "The app refuses it from now on; licence files issued before work until they expire (30 days at most). The customer's downloads are not affected.",
    );
  });
}

/** A new Ed25519 private key for LICENSE_SIGNING_KEY; needs no shop, database or setting. */
export function licenseKeygen() {
  console.log(JSON.stringify(newSigningKey()));
  console.error(
    "This is a private key: set it as LICENSE_SIGNING_KEY and keep it secret. Apps verify licence files with its public half, published at /.well-known/jwks.json. To rotate keys, see docs/licensing.md.",
  );
}

function printLicense(l: SellerLicense) {
  const rows: [string, string][] = [
    ["key", l.key],
    ["product", `${l.product.slug} (${l.product.name})`],
    ["owner", owner(l)],
    ["order", l.orderId ?? SOURCES[l.source] ?? l.source],
    ["status", l.status === "active" || !l.reason ? l.status : `${l.status}: ${l.reason}`],
    ["expires", l.expiresAt ?? "never"],
    ["limit", limitText(l)],
    ["activations", activationsText(l)],
    ["issued", l.createdAt ?? ""],
    ...(l.revokedAt ? [["revoked", l.revokedAt] as [string, string]] : []),
  ];
  console.log(`Licence ${l.id}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(12)} ${value}`);
  if (!l.activations.length) {
    console.log("\nNo machine has activated this key.");
    return;
  }
  console.log("");
  printTable(
    ["ACTIVATION", "FINGERPRINT", "LABEL", "FIRST SEEN", "LAST SEEN", "IP"],
    l.activations.map((a) => [
      a.id,
      a.fingerprint,
      a.label ?? "",
      (a.firstSeenAt ?? "").slice(0, 16),
      (a.lastSeenAt ?? "").slice(0, 16),
      a.ip ?? "",
    ]),
  );
}

/** `license limit ID N|none`: a whole number of machines, or none for the product's limit. */
function parseLimitArgument(text: string): number | null {
  if (text === "none") return null;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw invalidInput(
      `The limit must be a whole number of machines (at least 1), or "none" for the product's limit (got "${text}").`,
    );
  return Number(text);
}
