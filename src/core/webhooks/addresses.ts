/**
 * Whether a webhook URL's host is loopback, private or link-local (decision 0017): such
 * endpoints are refused unless WEBHOOK_ALLOW_PRIVATE_URLS=true, so a seller's admin (or anyone
 * who takes over the admin token) cannot make the shop post into its own network.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.includes(":")) return isPrivateIPv6(host);
  const v4 = parseIPv4(host);
  return v4 !== null && isPrivateIPv4(v4);
}

/** A dotted IPv4 address, or null for a name. */
function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function isPrivateIPv4([a = 0, b = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127) // carrier-grade NAT
  );
}

function isPrivateIPv6(host: string): boolean {
  // IPv4-mapped (::ffff:10.0.0.1) or its hex form (::ffff:a00:1), as URLs write it.
  const mapped = /^::ffff:(.+)$/.exec(host)?.[1];
  if (mapped) {
    const v4 = parseIPv4(mapped);
    if (v4) return isPrivateIPv4(v4);
    const [hi = "0", lo = "0"] = mapped.split(":");
    const n = (Number.parseInt(hi, 16) << 16) | Number.parseInt(lo, 16);
    return isPrivateIPv4([(n >>> 24) & 255, (n >>> 16) & 255]);
  }
  if (host === "::1" || host === "::") return true;
  const first = Number.parseInt(host.split(":")[0] || "0", 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}
