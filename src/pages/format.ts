/** 1900 usd -> "$19.00", in the buyer-neutral en locale. */
export function formatPrice(amount: number, currency: string): string {
  const format = currencyFormat(currency);
  if (!format) return `${amount} ${currency.toUpperCase()}`;
  return format.format(amount / 10 ** minorDigits(currency));
}

function minorDigits(currency: string): number {
  return currencyFormat(currency)?.resolvedOptions().maximumFractionDigits ?? 2;
}

// Making an Intl.NumberFormat costs far more than using one (a receipt formats several prices).
const formats = new Map<string, Intl.NumberFormat | null>();

function currencyFormat(currency: string): Intl.NumberFormat | null {
  const code = currency.toUpperCase();
  let format = formats.get(code);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat("en", { style: "currency", currency: code });
    } catch {
      format = null;
    }
    if (formats.size < 1000) formats.set(code, format);
  }
  return format;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * "2030-01-02 11:00 GMT+1": a moment in the shop's time zone (UTC unless the seller set one),
 * day first as year-month-day so nobody reads 01/02 two ways, the zone always written.
 */
export function formatDate(ms: number, timeZone = "UTC"): string {
  if (timeZone === "UTC") return `${new Date(ms).toISOString().replace("T", " ").slice(0, 16)} UTC`;
  const part: Record<string, string> = {};
  for (const { type, value } of dateFormat(timeZone).formatToParts(ms)) part[type] = value;
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    if (dateFormats.size < 1000) dateFormats.set(timeZone, format);
  }
  return format;
}

/** "19.00" usd -> 1900; null when the text is not an amount in that currency's minor units. */
export function toMinorUnits(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const match = /^(\d{1,9})(?:[.,](\d+))?$/.exec(text.trim());
  if (!match || (match[2]?.length ?? 0) > digits) return null;
  return Number(match[1]) * 10 ** digits + Number((match[2] ?? "").padEnd(digits, "0") || 0);
}

/** 1900 usd -> "19.00": the amount as a seller types it into a form. */
export function fromMinorUnits(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  return (amount / 10 ** digits).toFixed(digits);
}
