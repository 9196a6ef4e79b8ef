import { InvalidArgumentError } from "commander";
import { invalidInput } from "../../core/errors.ts";
import type { Product } from "../../db/schema.ts";

/** The licence options of `product add` and `product update`, parsed and turned into input. */

const machines = (n: number) => `${n} machine${n === 1 ? "" : "s"}`;

/** --license on|off */
export function onOff(value: string): boolean {
  if (["on", "true", "yes"].includes(value)) return true;
  if (["off", "false", "no"].includes(value)) return false;
  throw new InvalidArgumentError('use "on" or "off"');
}

/** --activation-limit N|none */
export function activationLimitOption(value: string): number | null {
  if (value === "none") return null;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('use a whole number of machines (at least 1), or "none"');
  return Number(value);
}

/** --license-expires never|with-access: whether keys end with the buyer's access. */
export function expiresOption(value: string): boolean {
  if (value === "with-access") return true;
  if (value === "never") return false;
  throw new InvalidArgumentError('use "with-access" or "never"');
}

/** The licence options of `product add` and `product update`, as the product schema takes them. */
export interface LicenseOptions {
  license?: boolean;
  activationLimit?: number | null;
  licenseExpires?: boolean;
}

export function licenseInput(opts: LicenseOptions) {
  const license = {
    ...(opts.license !== undefined ? { enabled: opts.license } : {}),
    ...(opts.activationLimit !== undefined ? { activationLimit: opts.activationLimit } : {}),
    ...(opts.licenseExpires !== undefined ? { expiresWithAccess: opts.licenseExpires } : {}),
  };
  return Object.keys(license).length ? { license } : {};
}

/** "Licence keys: on, 3 machines per key, ending with access." */
export function licenseSettingsText(p: Product): string {
  const limit =
    p.license_activation_limit === null
      ? "no activation limit"
      : `${machines(p.license_activation_limit)} per key`;
  const ends = p.license_expires_with_access ? "keys end with access" : "keys never expire";
  return `Licence keys: ${p.license_enabled ? "on" : "off"}, ${limit}, ${ends}.`;
}

export function requireSomeChange(changes: Record<string, unknown>) {
  if (Object.keys(changes).length === 0)
    throw invalidInput(
      "Nothing to change: give --name, --description, --price, --pay-what-you-want, --fixed-price, --list-price, --tax-code, --license, --activation-limit, --license-expires, --past-due-days, --refund or --dispute.",
    );
}
