/**
 * AWS Signature Version 4 query signing ("presigned URLs") for S3 and S3-compatible stores (R2,
 * MinIO), written for the download hot path (DESIGN sections 7 and 12):
 *
 * - HMAC and SHA-256 go through `SigningCrypto`, which may answer synchronously: on Node it is
 *   node:crypto (see ./node.ts), so a URL costs two in-process hashes and no trip to a worker
 *   thread; on Workers it wraps the Crypto port (crypto.subtle).
 * - The signing key is derived once per (date, region, service) and cached, never per URL.
 *
 * Web standards only: this file runs on Node and on Workers alike.
 */
import type { Crypto } from "../../core/ports.ts";

type MaybePromise<T> = T | Promise<T>;

/** The two primitives SigV4 needs. Implementations may answer synchronously (node:crypto). */
export interface SigningCrypto {
  hmacSha256(key: Uint8Array | string, data: string): MaybePromise<Uint8Array>;
  sha256Hex(data: string): MaybePromise<string>;
}

/** SigningCrypto over the Crypto port (Workers: crypto.subtle). */
export function signingCryptoFromPort(crypto: Crypto): SigningCrypto {
  return {
    hmacSha256: (key, data) => crypto.hmacSha256(key, data),
    sha256Hex: async (data) => toHex(await crypto.sha256(data)),
  };
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS) only. */
  sessionToken?: string;
}

export interface PresignerOptions {
  /** `https://s3.us-east-1.amazonaws.com`, `https://<account>.r2.cloudflarestorage.com`, ... */
  endpoint: string;
  bucket: string;
  /** `auto` for R2. */
  region: string;
  credentials: S3Credentials;
  crypto: SigningCrypto;
  /**
   * `path` (default): `${endpoint}/${bucket}/${key}`, what R2 and MinIO expect and what works for
   * any bucket name. `virtual`: `${bucket}.${endpoint host}/${key}`.
   */
  style?: "path" | "virtual";
  /** `s3` unless you know better. */
  service?: string;
}

export interface PresignRequest {
  method: "GET" | "PUT" | "HEAD" | "DELETE" | "POST";
  key: string;
  /** 1 to 604800 (7 days, the most S3 and R2 accept). */
  expiresInSeconds: number;
  /** The signing time, epoch milliseconds. */
  now: number;
  /** Extra query parameters, signed in: `response-content-disposition`, `partNumber`, ... */
  query?: Record<string, string>;
  /**
   * Headers the client must send exactly as given (signed in), e.g. `content-type` on a PUT.
   * `host` is always signed.
   */
  headers?: Record<string, string>;
}

export interface PresignedGetOptions {
  expiresInSeconds: number;
  now: number;
  /** Signed in as `response-content-disposition`: the Content-Disposition the store answers with. */
  responseContentDisposition?: string;
  /** Signed in as `response-content-type`. */
  responseContentType?: string;
}

export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const ALGORITHM = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** Headers left out of a header signature: fetch or a proxy may set or change them. */
const UNSIGNED_HEADERS = new Set([
  "authorization",
  "content-type",
  "content-length",
  "user-agent",
  "expect",
  "range",
  "connection",
]);

export class S3Presigner {
  readonly #opts: Required<Omit<PresignerOptions, "credentials">> & {
    credentials: S3Credentials;
  };
  /** Origin and path prefix of every URL (no trailing slash), e.g. `https://h:9000/bucket`. */
  readonly #base: string;
  /** The Host header as the client will send it (port only when not the scheme's default). */
  readonly #host: string;
  /** Canonical (encoded) path prefix: endpoint path, plus `/bucket` in path style. */
  readonly #pathPrefix: string;
  readonly #keys = new Map<string, Uint8Array>();

  constructor(options: PresignerOptions) {
    this.#opts = {
      ...options,
      style: options.style ?? "path",
      service: options.service ?? "s3",
    };
    const endpoint = new URL(options.endpoint);
    if (endpoint.search || endpoint.hash)
      throw new Error("the S3 endpoint must not have a ?query or #fragment");
    const endpointPath = endpoint.pathname.replace(/\/+$/, "");
    const bucket = options.bucket;
    if (!bucket || bucket.includes("/")) throw new Error(`invalid bucket name: ${bucket}`);
    if (this.#opts.style === "virtual") {
      this.#host = `${bucket}.${endpoint.host}`;
      this.#pathPrefix = endpointPath;
    } else {
      this.#host = endpoint.host;
      this.#pathPrefix = `${endpointPath}/${uriEncode(bucket)}`;
    }
    this.#base = `${endpoint.protocol}//${this.#host}${this.#pathPrefix}`;
  }

  /** The URL of one object without any signature, e.g. for header-signed requests. */
  objectUrl(key: string): string {
    return `${this.#base}${encodeKey(key)}`;
  }

  /** The bucket's own URL (list, head bucket): `/bucket` in path style, `/` in virtual style. */
  bucketUrl(): string {
    return this.#opts.style === "virtual" ? `${this.#base}/` : this.#base;
  }

  /** A GET URL for one object with the response headers the store must answer with. */
  presignGet(key: string, opts: PresignedGetOptions): Promise<string> {
    const query: Record<string, string> = {};
    if (opts.responseContentDisposition !== undefined)
      query["response-content-disposition"] = opts.responseContentDisposition;
    if (opts.responseContentType !== undefined)
      query["response-content-type"] = opts.responseContentType;
    return this.presign({
      method: "GET",
      key,
      expiresInSeconds: opts.expiresInSeconds,
      now: opts.now,
      query,
    });
  }

  /** A URL for any request on one object, valid for `expiresInSeconds` from `now`. */
  async presign(request: PresignRequest): Promise<string> {
    const { expiresInSeconds } = request;
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > MAX_PRESIGN_SECONDS
    )
      throw new RangeError(
        `a presigned URL must expire in 1 to ${MAX_PRESIGN_SECONDS} seconds (got ${expiresInSeconds})`,
      );
    const { credentials, region, service, crypto } = this.#opts;
    const datetime = amzDate(request.now);
    const date = datetime.slice(0, 8);
    const scope = `${date}/${region}/${service}/aws4_request`;

    const headers: [string, string][] = [["host", this.#host]];
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      const lower = name.toLowerCase();
      if (lower !== "host") headers.push([lower, canonicalHeaderValue(value)]);
    }
    headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signedHeaders = headers.map(([name]) => name).join(";");

    const params: [string, string][] = [
      ["X-Amz-Algorithm", ALGORITHM],
      ["X-Amz-Credential", `${credentials.accessKeyId}/${scope}`],
      ["X-Amz-Date", datetime],
      ["X-Amz-Expires", String(expiresInSeconds)],
      ["X-Amz-SignedHeaders", signedHeaders],
    ];
    if (credentials.sessionToken) params.push(["X-Amz-Security-Token", credentials.sessionToken]);
    for (const [name, value] of Object.entries(request.query ?? {})) params.push([name, value]);
    const query = canonicalQuery(params);

    const path = `${this.#pathPrefix}${encodeKey(request.key)}`;
    const canonicalRequest = `${request.method}\n${path}\n${query}\n${headers
      .map(([name, value]) => `${name}:${value}\n`)
      .join("")}\n${signedHeaders}\n${UNSIGNED_PAYLOAD}`;
    const stringToSign = `${ALGORITHM}\n${datetime}\n${scope}\n${await crypto.sha256Hex(canonicalRequest)}`;
    const signingKey = await this.#signingKey(date);
    const signature = toHex(await crypto.hmacSha256(signingKey, stringToSign));
    // The query is sent exactly as it was signed (%20, never +), so no store has to guess.
    return `${this.#base}${encodeKey(request.key)}?${query}&X-Amz-Signature=${signature}`;
  }

  /**
   * Header signing (an `Authorization` header) for a request the store answers now: `url` is one
   * of this presigner's URLs, with any query. Signs host, the date, an unsigned payload, the
   * session token and the given headers, except those a fetch may set or change itself
   * (content-type, content-length, range, ...), as aws4fetch did. Answers the headers to send.
   */
  async signHeaders(
    method: string,
    url: string,
    given: Record<string, string>,
    now: number,
  ): Promise<Record<string, string>> {
    const { credentials, region, service, crypto } = this.#opts;
    const datetime = amzDate(now);
    const date = datetime.slice(0, 8);
    const scope = `${date}/${region}/${service}/aws4_request`;
    const target = new URL(url);
    const send: Record<string, string> = {
      ...given,
      "x-amz-date": datetime,
      "x-amz-content-sha256": UNSIGNED_PAYLOAD,
    };
    if (credentials.sessionToken) send["x-amz-security-token"] = credentials.sessionToken;
    const headers: [string, string][] = [["host", target.host]];
    for (const [name, value] of Object.entries(send)) {
      const lower = name.toLowerCase();
      if (lower !== "host" && !UNSIGNED_HEADERS.has(lower))
        headers.push([lower, canonicalHeaderValue(value)]);
    }
    headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signedHeaders = headers.map(([name]) => name).join(";");
    const query = canonicalQuery([...target.searchParams]);
    const canonicalRequest = `${method}\n${target.pathname}\n${query}\n${headers
      .map(([name, value]) => `${name}:${value}\n`)
      .join("")}\n${signedHeaders}\n${UNSIGNED_PAYLOAD}`;
    const stringToSign = `${ALGORITHM}\n${datetime}\n${scope}\n${await crypto.sha256Hex(canonicalRequest)}`;
    const signature = toHex(await crypto.hmacSha256(await this.#signingKey(date), stringToSign));
    send.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return send;
  }

  /** kSigning = HMAC chain over date, region, service; once per day per presigner. */
  async #signingKey(date: string): Promise<Uint8Array> {
    const { region, service, crypto, credentials } = this.#opts;
    const cacheKey = `${date}/${region}/${service}`;
    const cached = this.#keys.get(cacheKey);
    if (cached) return cached;
    const kDate = await crypto.hmacSha256(`AWS4${credentials.secretAccessKey}`, date);
    const kRegion = await crypto.hmacSha256(kDate, region);
    const kService = await crypto.hmacSha256(kRegion, service);
    const kSigning = await crypto.hmacSha256(kService, "aws4_request");
    // Around midnight two dates are live (clock skew between processes); keep only a few.
    if (this.#keys.size >= 4) this.#keys.clear();
    this.#keys.set(cacheKey, kSigning);
    return kSigning;
  }
}

/** `20130524T000000Z` */
export function amzDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2013-05-24T00:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/**
 * SigV4 URI encoding: every byte except the unreserved `A-Z a-z 0-9 - . _ ~` becomes `%XX`
 * (upper case). encodeURIComponent leaves `! ' ( ) *` alone, so those are done here.
 */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `/` + each segment of the key encoded on its own; the slashes stay. */
export function encodeKey(key: string): string {
  return `/${key.split("/").map(uriEncode).join("/")}`;
}

/** Sorted by encoded name (then value), each name and value encoded, joined with `&`. */
export function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** Trimmed, with runs of spaces collapsed to one (SigV4 "Trimall"). */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, " ");
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX[byte];
  return out;
}
