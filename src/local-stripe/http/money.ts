/** Amounts as a buyer types them ("12.50") and as Stripe stores them (1250 minor units). */

const digitsOf = (currency: string): number => {
  try {
    return (
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
};

/** Minor units, or null when the text is not an amount in this currency. */
export function parseMajor(text: string, currency: string): number | null {
  const digits = digitsOf(currency);
  const match = /^(\d{1,8})(?:[.,](\d+))?$/.exec(text.trim());
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (fraction.length > digits) return null;
  return Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

/** 1250 usd -> "12.50", the value an amount field shows. */
export const toMajor = (amount: number, currency: string) => {
  const digits = digitsOf(currency);
  return (amount / 10 ** digits).toFixed(digits);
};
