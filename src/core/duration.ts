const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from `300`, `90s`, `5m`, `24h` or `7d`; null when the text is not such a duration. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === "number") return Number.isInteger(text) && text > 0 ? text : null;
  const match = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * (UNITS[match[2] || "s"] ?? 1);
  return seconds > 0 ? seconds : null;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
};

/** Bytes from `1048576`, `512KB` (or `512K`), `100MB`, `5GB`. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?b?)\s*$/i.exec(text);
  if (!match) return null;
  const bytes = Math.floor(
    Number(match[1]) * (SIZE_UNITS[(match[2] ?? "").toLowerCase()] ?? Number.NaN),
  );
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** 604800 -> "7 days", 7200 -> "2 hours": a span in the largest unit that divides it. */
export function durationText(seconds: number): string {
  if (seconds % 86400 === 0) return plural(seconds / 86400, "day");
  if (seconds % 3600 === 0) return plural(seconds / 3600, "hour");
  if (seconds % 60 === 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

/** "25 minutes", "3 hours", "2 days": a duration as a seller reads it, rounded down. */
export function inWords(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 120) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.floor(hours / 24), "day");
}
