/**
 * The part of Workers' R2 bucket binding this store uses, declared here (as Kysely declares the
 * part of pg it needs) so nothing depends on @cloudflare/workers-types.
 */
export interface R2HttpMetadata {
  contentType?: string;
  contentDisposition?: string;
}

export interface R2Object {
  key: string;
  size: number;
  /** The ETag as an HTTP header value, quoted. */
  httpEtag: string;
  httpMetadata?: R2HttpMetadata;
  customMetadata?: Record<string, string>;
}

export interface R2ObjectBody extends R2Object {
  body: ReadableStream<Uint8Array>;
}

export interface R2UploadedPart {
  partNumber: number;
  etag: string;
}

export interface R2MultipartUpload {
  readonly uploadId: string;
  uploadPart(partNumber: number, value: Uint8Array): Promise<R2UploadedPart>;
  complete(parts: R2UploadedPart[]): Promise<R2Object>;
  abort(): Promise<void>;
}

export interface R2Bucket {
  head(key: string): Promise<R2Object | null>;
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<R2ObjectBody | null>;
  put(
    key: string,
    value: Uint8Array | string | null,
    options?: { httpMetadata?: R2HttpMetadata; customMetadata?: Record<string, string> },
  ): Promise<R2Object | null>;
  /** One key, or up to 1,000 at once. */
  delete(keys: string | string[]): Promise<void>;
  list(options?: {
    limit?: number;
    prefix?: string;
    cursor?: string;
    include?: ("httpMetadata" | "customMetadata")[];
  }): Promise<{ objects: R2Object[]; truncated: boolean; cursor?: string }>;
  createMultipartUpload(
    key: string,
    options?: { httpMetadata?: R2HttpMetadata },
  ): Promise<R2MultipartUpload>;
  /** Names a multipart upload again (no request is made until it is used). */
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload;
}
