export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Markup that is already safe: made by `html` or by this module, never from raw input. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** A template whose interpolated values are escaped, unless they are SafeHtml (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  const part = (value: unknown): string =>
    value instanceof SafeHtml
      ? value.value
      : Array.isArray(value)
        ? value.map(part).join("")
        : value === null || value === undefined || value === false
          ? ""
          : escapeHtml(String(value));
  return new SafeHtml(strings.reduce((out, s, i) => out + part(values[i - 1]) + s));
}
