import { badRequest } from "./errors.ts";
import type { Param, Params } from "./form.ts";

/**
 * Reads one level of request parameters the way Stripe validates them: a named `param` in every
 * error, and "Received unknown parameter" for anything the route did not read.
 */
export class Reader {
  private readonly read = new Set<string>();
  private readonly children: Reader[] = [];

  constructor(
    private readonly params: Params,
    private readonly prefix = "",
  ) {}

  /** The full parameter name of `key`, e.g. `line_items[0][quantity]`. */
  path(key: string) {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  private raw(key: string, required: boolean): Param | undefined {
    this.read.add(key);
    const value = this.params[key];
    if (value === undefined && required)
      throw badRequest(`Missing required param: ${this.path(key)}.`, this.path(key));
    return value;
  }

  has(key: string): boolean {
    return this.params[key] !== undefined;
  }

  isText(key: string): boolean {
    return typeof this.params[key] === "string";
  }

  string(key: string, opts: { required: true; max?: number }): string;
  string(key: string, opts?: { required?: boolean; max?: number }): string | undefined;
  string(key: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const value = this.raw(key, opts.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== "string")
      throw badRequest(`Invalid string: ${this.path(key)} must be a string.`, this.path(key));
    if (opts.required && value === "")
      throw badRequest(`Missing required param: ${this.path(key)}.`, this.path(key));
    if (opts.max !== undefined && value.length > opts.max)
      throw badRequest(
        `Invalid ${this.path(key)}: must be at most ${opts.max} characters.`,
        this.path(key),
      );
    return value;
  }

  int(key: string, opts: { required: true; min?: number; max?: number }): number;
  int(key: string, opts?: { required?: boolean; min?: number; max?: number }): number | undefined;
  int(
    key: string,
    opts: { required?: boolean; min?: number; max?: number } = {},
  ): number | undefined {
    const text = this.string(key, { required: opts.required ?? false });
    if (text === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(text)) throw badRequest(`Invalid integer: ${text}`, this.path(key));
    const value = Number(text);
    if (opts.min !== undefined && value < opts.min)
      throw badRequest(`This value must be greater than or equal to ${opts.min}.`, this.path(key));
    if (opts.max !== undefined && value > opts.max)
      throw badRequest(`This value must be less than or equal to ${opts.max}.`, this.path(key));
    return value;
  }

  bool(key: string): boolean | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    if (text !== "true" && text !== "false")
      throw badRequest(`Invalid boolean: ${text}`, this.path(key));
    return text === "true";
  }

  oneOf<T extends string>(key: string, values: readonly T[], required: true): T;
  oneOf<T extends string>(key: string, values: readonly T[], required?: boolean): T | undefined;
  oneOf<T extends string>(key: string, values: readonly T[], required = false): T | undefined {
    const text = this.string(key, { required });
    if (text === undefined) return undefined;
    if (!(values as readonly string[]).includes(text))
      throw badRequest(
        `Invalid ${this.path(key)}: must be one of ${values.join(", ")}`,
        this.path(key),
      );
    return text as T;
  }

  url(key: string): string | undefined {
    const text = this.string(key, { max: 5000 });
    if (text === undefined) return undefined;
    try {
      if (["http:", "https:"].includes(new URL(text).protocol)) return text;
    } catch {}
    throw badRequest("Not a valid URL", this.path(key), "url_invalid");
  }

  email(key: string): string | undefined {
    const text = this.string(key, { max: 800 });
    if (text === undefined) return undefined;
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text))
      throw badRequest(`Invalid email address: ${text}`, this.path(key), "email_invalid");
    return text;
  }

  /**
   * Up to 50 keys of at most 40 characters, values of at most 500: Stripe's metadata rules. An
   * empty value is kept: on updates it deletes the key.
   */
  metadata(key = "metadata"): Record<string, string> | undefined {
    const value = this.raw(key, false);
    if (value === undefined || value === "") return value === "" ? {} : undefined;
    if (typeof value !== "object" || Array.isArray(value))
      throw badRequest("Invalid object", this.path(key));
    const entries = Object.entries(value);
    if (entries.length > 50)
      throw badRequest("You can have up to 50 metadata keys.", this.path(key));
    for (const [k, v] of entries) {
      if (typeof v !== "string") throw badRequest("Invalid object", `${this.path(key)}[${k}]`);
      if (k.length > 40)
        throw badRequest(
          `Metadata keys can have up to 40 characters, but you passed in a key that is ${k.length} characters.`,
          `${this.path(key)}[${k}]`,
        );
      if (v.length > 500)
        throw badRequest(
          `Metadata values can have up to 500 characters, but you passed in a value that is ${v.length} characters.`,
          `${this.path(key)}[${k}]`,
        );
    }
    return Object.fromEntries(entries) as Record<string, string>;
  }

  object(key: string, required = false): Reader | undefined {
    const value = this.raw(key, required);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value))
      throw badRequest("Invalid object", this.path(key));
    return this.child(value, this.path(key));
  }

  private child(params: Params, path: string): Reader {
    const reader = new Reader(params, path);
    this.children.push(reader);
    return reader;
  }

  list(key: string, required = false): Reader[] | undefined {
    const value = this.raw(key, required);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw badRequest("Invalid array", this.path(key));
    return value.map((item, i) => {
      if (typeof item !== "object" || Array.isArray(item))
        throw badRequest("Invalid object", `${this.path(key)}[${i}]`);
      return this.child(item, `${this.path(key)}[${i}]`);
    });
  }

  strings(key: string): string[] | undefined {
    const value = this.raw(key, false);
    if (value === undefined) return undefined;
    const list = Array.isArray(value) ? value : [value];
    return list.map((item, i) => {
      if (typeof item !== "string") throw badRequest("Invalid array", `${this.path(key)}[${i}]`);
      return item;
    });
  }

  /** Rejects every parameter the route did not read, at any depth, like Stripe does. */
  done(): void {
    for (const key of Object.keys(this.params))
      if (!this.read.has(key))
        throw badRequest(`Received unknown parameter: ${this.path(key)}`, this.path(key));
    for (const child of this.children) child.done();
  }
}
