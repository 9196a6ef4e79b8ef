/**
 * The narrow interfaces the core depends on. Adapters implement them per runtime; nothing here
 * imports a driver, an SDK or a Node module.
 */
import type { Db, Trx } from "../db/schema.ts";

export type { Db, Trx };

/** Hashing and HMAC: node:crypto on Node (synchronous, fast), crypto.subtle on Workers. */
export interface Crypto {
  randomBytes(length: number): Uint8Array;
  sha256(data: string | Uint8Array): Promise<Uint8Array>;
  hmacSha256(key: string | Uint8Array, data: string | Uint8Array): Promise<Uint8Array>;
  /** Incremental SHA-256, for hashing an upload while it streams to storage. */
  createSha256(): IncrementalHash;
}

export interface IncrementalHash {
  update(chunk: Uint8Array): void;
  digestHex(): Promise<string>;
}

export interface Clock {
  /** UTC epoch milliseconds. */
  now(): number;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface ObjectInfo {
  size: number;
  contentType: string;
  etag?: string;
}

export interface ObjectBody extends ObjectInfo {
  body: ReadableStream<Uint8Array>;
  /** Present when a range was requested: the bytes the body holds. */
  range?: ByteRange;
}

export interface PutOptions {
  contentType: string;
  /** Stored with the object so the browser saves the product's file name. */
  contentDisposition: string;
  /** Rejects the upload with too_large once more bytes than this arrive. */
  maxBytes?: number;
}

export interface SignedUrlOptions {
  expiresInSeconds: number;
  filename: string;
  contentType: string;
}

export interface ObjectStore {
  readonly kind: "local" | "s3" | "r2-binding";
  put(key: string, body: ReadableStream<Uint8Array>, opts: PutOptions): Promise<{ size: number }>;
  head(key: string): Promise<ObjectInfo | null>;
  /** The object's bytes, or a range of them; null when the object is missing. */
  get(key: string, range?: ByteRange): Promise<ObjectBody | null>;
  delete(key: string): Promise<void>;
  /** A URL for one object that stops working after `expiresInSeconds`. */
  signedUrl(key: string, opts: SignedUrlOptions): Promise<string>;
  /** Throws when the store is not reachable or not writable. */
  check(): Promise<void>;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
