/**
 * A small S3-compatible server for tests: path-style buckets on 127.0.0.1, objects in a temporary
 * folder. It checks AWS Signature Version 4 the way S3 does, for header-signed requests
 * (aws4fetch) and presigned query URLs alike: a wrong signature, an expired URL, any change to
 * the path or the query, or no signature at all gets a 403 with an S3 XML error. It speaks the
 * subset Tollgate uses: PUT (single and multipart: initiate, parts, complete, abort), HEAD, GET
 * with Range (206/416) and the response-* overrides, DELETE, HEAD bucket and ListObjectsV2.
 *
 * Written from the SigV4 specification and on purpose shares no code with the client under test.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rename, rm, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

export interface S3ServerOptions {
  region?: string;
  /** Access key id -> secret access key. */
  credentials?: Record<string, string>;
  buckets?: string[];
  /** Smallest part but the last of a multipart upload (S3: 5 MiB). */
  minPartSize?: number;
  /** The bucket's CORS rule: pages on these origins may PUT, POST, GET and read the ETag (read
   * at each request, so a test may add its server's origin later). */
  corsOrigins?: string[];
}

export interface S3LogEntry {
  method: string;
  url: string;
  auth: "header" | "query" | "anonymous";
  status: number;
  code?: string;
}

interface StoredObject {
  key: string;
  file: string;
  size: number;
  etag: string;
  contentType: string;
  contentDisposition: string | null;
  lastModified: Date;
}

interface Upload {
  id: string;
  bucket: string;
  key: string;
  contentType: string;
  contentDisposition: string | null;
  parts: Map<number, { file: string; size: number; etag: string; md5: Buffer }>;
}

class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const MAX_SKEW_MS = 15 * 60_000;

export const TEST_ACCESS_KEY_ID = "AKIDTOLLGATETEST0001";
export const TEST_SECRET_ACCESS_KEY = "tollgate/test/Secret+Key0123456789abcdefgh";

export type S3TestServer = Awaited<ReturnType<typeof startS3Server>>;

export async function startS3Server(options: S3ServerOptions = {}) {
  const region = options.region ?? "us-east-1";
  const credentials = options.credentials ?? { [TEST_ACCESS_KEY_ID]: TEST_SECRET_ACCESS_KEY };
  const minPartSize = options.minPartSize ?? 5 * 1024 * 1024;
  const root = await mkdtemp(join(tmpdir(), "tollgate-s3-"));
  await mkdir(join(root, "data"));
  await mkdir(join(root, "tmp"));
  const buckets = new Map<string, Map<string, StoredObject>>(
    (options.buckets ?? ["bucket"]).map((name) => [name, new Map()]),
  );
  const uploads = new Map<string, Upload>();
  const log: S3LogEntry[] = [];
  const state = { timeShiftMs: 0 };
  const now = () => Date.now() + state.timeShiftMs;

  const tempFile = () => join(root, "tmp", randomBytes(12).toString("hex"));

  async function handle(req: IncomingMessage, res: ServerResponse, entry: S3LogEntry) {
    const rawUrl = req.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? "" : rawUrl.slice(queryAt + 1);
    const query = parseQuery(rawQuery);
    const method = req.method ?? "GET";

    const auth = authenticate(req, method, rawPath, query, entry);

    const segments = rawPath.split("/").slice(1);
    const bucketName = decode(segments[0] ?? "", "path");
    const key = segments
      .slice(1)
      .map((s) => decode(s, "path"))
      .join("/");
    if (!bucketName) throw new S3Failure(501, "NotImplemented", "ListBuckets is not supported.");
    const bucket = buckets.get(bucketName);
    if (!bucket) throw new S3Failure(404, "NoSuchBucket", "The specified bucket does not exist.");
    const has = (name: string) => query.some(([n]) => n === name);
    const param = (name: string) => query.find(([n]) => n === name)?.[1];

    if (!key) {
      if (method === "HEAD") return void res.writeHead(200).end();
      if (method === "GET" && param("list-type") === "2")
        return listObjects(res, bucketName, bucket, param);
      throw new S3Failure(501, "NotImplemented", "This bucket operation is not supported.");
    }

    const uploadId = param("uploadId");
    if (method === "PUT" && uploadId !== undefined) {
      return uploadPart(req, res, auth, bucketName, key, uploadId, param("partNumber"));
    }
    if (method === "PUT") return putObject(req, res, auth, bucket, key);
    if (method === "POST" && has("uploads")) return initiate(req, res, bucketName, key);
    if (method === "POST" && uploadId !== undefined) {
      return complete(req, res, auth, bucketName, bucket, key, uploadId);
    }
    if (method === "GET" && uploadId !== undefined)
      return listParts(res, bucketName, key, uploadId, param);
    if (method === "DELETE" && uploadId !== undefined) {
      const upload = findUpload(uploadId, bucketName, key);
      uploads.delete(upload.id);
      await Promise.all([...upload.parts.values()].map((p) => rm(p.file, { force: true })));
      return void res.writeHead(204).end();
    }
    if (method === "DELETE") {
      const object = bucket.get(key);
      if (object) {
        bucket.delete(key);
        await rm(object.file, { force: true });
      }
      return void res.writeHead(204).end();
    }
    if (method === "GET" || method === "HEAD")
      return getObject(req, res, method, bucket, key, param);
    throw new S3Failure(
      405,
      "MethodNotAllowed",
      "The method is not allowed against this resource.",
    );
  }

  /** Checks the signature (header or query); throws the error S3 would answer with. */
  function authenticate(
    req: IncomingMessage,
    method: string,
    rawPath: string,
    query: [string, string][],
    entry: S3LogEntry,
  ): { payloadHash: string } {
    const authorization = req.headers.authorization;
    const presigned = query.some(([name]) => name === "X-Amz-Algorithm");
    if (!authorization && !presigned) throw new S3Failure(403, "AccessDenied", "Access Denied");
    if (authorization && presigned)
      throw new S3Failure(400, "InvalidArgument", "Only one auth mechanism allowed.");

    let credential: string;
    let signedHeaders: string;
    let signature: string;
    let datetime: string;
    let payloadHash: string;
    if (authorization) {
      entry.auth = "header";
      const match =
        /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
          authorization,
        );
      if (!match)
        throw new S3Failure(
          400,
          "AuthorizationHeaderMalformed",
          "The authorization header is malformed.",
        );
      [, credential = "", signedHeaders = "", signature = ""] = match;
      datetime = header(req, "x-amz-date");
      payloadHash = header(req, "x-amz-content-sha256");
      if (!payloadHash)
        throw new S3Failure(
          400,
          "InvalidRequest",
          "Missing required header for this request: x-amz-content-sha256",
        );
      if (payloadHash.startsWith("STREAMING-"))
        throw new S3Failure(501, "NotImplemented", "Streaming signatures are not supported here.");
    } else {
      entry.auth = "query";
      const get = (name: string) => {
        const found = query.filter(([n]) => n === name);
        if (found.length !== 1 || !found[0]?.[1])
          throw new S3Failure(
            400,
            "AuthorizationQueryParametersError",
            `Query-string authentication requires exactly one ${name} parameter.`,
          );
        return found[0][1];
      };
      if (get("X-Amz-Algorithm") !== ALGORITHM)
        throw new S3Failure(
          400,
          "AuthorizationQueryParametersError",
          'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
        );
      credential = get("X-Amz-Credential");
      signedHeaders = get("X-Amz-SignedHeaders");
      signature = get("X-Amz-Signature");
      datetime = get("X-Amz-Date");
      const expires = get("X-Amz-Expires");
      if (!/^\d+$/.test(expires) || Number(expires) < 1 || Number(expires) > 604800)
        throw new S3Failure(
          400,
          "AuthorizationQueryParametersError",
          "X-Amz-Expires must be between 1 and 604800 seconds.",
        );
      const signedAt = parseAmzDate(datetime);
      if (signedAt === null)
        throw new S3Failure(
          400,
          "AuthorizationQueryParametersError",
          "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        );
      if (now() > signedAt + Number(expires) * 1000)
        throw new S3Failure(403, "AccessDenied", "Request has expired");
      if (signedAt > now() + MAX_SKEW_MS)
        throw new S3Failure(403, "AccessDenied", "Request is not valid yet");
      payloadHash = "UNSIGNED-PAYLOAD";
    }

    const scope = credential.split("/");
    const [accessKeyId = "", scopeDate, scopeRegion, service, terminator] = scope;
    const secret = credentials[accessKeyId];
    if (scope.length !== 5 || service !== "s3" || terminator !== "aws4_request")
      throw malformed(
        presigned,
        "the credential scope must be <key>/<date>/<region>/s3/aws4_request",
      );
    if (secret === undefined)
      throw new S3Failure(
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
      );
    if (scopeRegion !== region)
      throw malformed(presigned, `the region '${scopeRegion}' is wrong; expecting '${region}'`);
    const signedAt = parseAmzDate(datetime);
    if (signedAt === null || datetime.slice(0, 8) !== scopeDate)
      throw malformed(presigned, "the credential date does not match X-Amz-Date");
    if (!presigned && Math.abs(now() - signedAt) > MAX_SKEW_MS)
      throw new S3Failure(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
      );

    const headerNames = signedHeaders.split(";");
    if (!headerNames.includes("host")) throw malformed(presigned, "the host header must be signed");
    const canonicalHeaders = headerNames
      .map((name) => `${name}:${header(req, name).trim().replace(/\s+/g, " ")}\n`)
      .join("");
    const canonicalUri = rawPath
      .split("/")
      .map((segment) => uriEncode(decode(segment, "path")))
      .join("/");
    const canonicalQuery = query
      .filter(([name]) => !(presigned && name === "X-Amz-Signature"))
      .map(([name, value]) => [uriEncode(name), uriEncode(value)])
      .sort(([a = "", x = ""], [b = "", y = ""]) =>
        a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0,
      )
      .map(([name, value]) => `${name}=${value}`)
      .join("&");
    const canonicalRequest = [
      method,
      canonicalUri,
      canonicalQuery,
      canonicalHeaders,
      signedHeaders,
      payloadHash,
    ].join("\n");
    const stringToSign = [
      ALGORITHM,
      datetime,
      `${scopeDate}/${scopeRegion}/s3/aws4_request`,
      createHash("sha256").update(canonicalRequest).digest("hex"),
    ].join("\n");
    let signingKey = hmac(`AWS4${secret}`, scopeDate ?? "");
    for (const part of [region, "s3", "aws4_request"]) signingKey = hmac(signingKey, part);
    const expected = Buffer.from(hmac(signingKey, stringToSign).toString("hex"));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new S3Failure(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      );
    return { payloadHash };
  }

  function malformed(presigned: boolean, why: string) {
    return presigned
      ? new S3Failure(
          400,
          "AuthorizationQueryParametersError",
          `Error parsing the X-Amz-Credential parameter; ${why}`,
        )
      : new S3Failure(
          400,
          "AuthorizationHeaderMalformed",
          `The authorization header is malformed; ${why}`,
        );
  }

  /** Streams the request body to a temporary file; checks Content-Length and a signed payload hash. */
  async function receive(req: IncomingMessage, auth: { payloadHash: string }) {
    const declared = req.headers["content-length"];
    if (declared === undefined || !/^\d+$/.test(declared))
      throw new S3Failure(
        411,
        "MissingContentLength",
        "You must provide the Content-Length HTTP header.",
      );
    const file = tempFile();
    const md5 = createHash("md5");
    const sha256 = createHash("sha256");
    let size = 0;
    try {
      await pipeline(
        req,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            md5.update(chunk);
            sha256.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(file, { highWaterMark: 1024 * 1024 }),
      );
      if (size !== Number(declared))
        throw new S3Failure(
          400,
          "IncompleteBody",
          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        );
      if (auth.payloadHash !== "UNSIGNED-PAYLOAD" && auth.payloadHash !== sha256.digest("hex"))
        throw new S3Failure(
          400,
          "XAmzContentSHA256Mismatch",
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
      const digest = md5.digest();
      return { file, size, md5: digest, etag: `"${digest.toString("hex")}"` };
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  async function putObject(
    req: IncomingMessage,
    res: ServerResponse,
    auth: { payloadHash: string },
    bucket: Map<string, StoredObject>,
    key: string,
  ) {
    const received = await receive(req, auth);
    await store(bucket, key, received.file, {
      size: received.size,
      etag: received.etag,
      contentType: header(req, "content-type") || "binary/octet-stream",
      contentDisposition: header(req, "content-disposition") || null,
    });
    res.writeHead(200, { ETag: received.etag }).end();
  }

  async function store(
    bucket: Map<string, StoredObject>,
    key: string,
    from: string,
    meta: Omit<StoredObject, "key" | "file" | "lastModified">,
  ) {
    const file = join(root, "data", randomBytes(12).toString("hex"));
    await rename(from, file);
    const previous = bucket.get(key);
    bucket.set(key, { key, file, lastModified: new Date(now()), ...meta });
    if (previous) await rm(previous.file, { force: true });
  }

  function initiate(req: IncomingMessage, res: ServerResponse, bucket: string, key: string) {
    const id = randomBytes(16).toString("base64url");
    uploads.set(id, {
      id,
      bucket,
      key,
      contentType: header(req, "content-type") || "binary/octet-stream",
      contentDisposition: header(req, "content-disposition") || null,
      parts: new Map(),
    });
    xml(
      res,
      200,
      `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${esc(id)}</UploadId></InitiateMultipartUploadResult>`,
    );
  }

  /** ListParts, paged by part-number-marker and max-parts like S3. */
  function listParts(
    res: ServerResponse,
    bucket: string,
    key: string,
    uploadId: string,
    param: (name: string) => string | undefined,
  ) {
    const upload = findUpload(uploadId, bucket, key);
    const marker = Number(param("part-number-marker") ?? "0") || 0;
    const max = Math.min(1000, Number(param("max-parts") ?? "1000") || 1000);
    const all = [...upload.parts.entries()].filter(([n]) => n > marker).sort(([a], [b]) => a - b);
    const page = all.slice(0, max);
    const truncated = all.length > max;
    const next = page.at(-1)?.[0] ?? marker;
    xml(
      res,
      200,
      `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${esc(uploadId)}</UploadId><PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${next}</NextPartNumberMarker><MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>${page
        .map(
          ([n, p]) =>
            `<Part><PartNumber>${n}</PartNumber><ETag>${esc(p.etag)}</ETag><Size>${p.size}</Size></Part>`,
        )
        .join("")}</ListPartsResult>`,
    );
  }

  function findUpload(id: string, bucket: string, key: string): Upload {
    const upload = uploads.get(id);
    if (!upload || upload.bucket !== bucket || upload.key !== key)
      throw new S3Failure(404, "NoSuchUpload", "The specified multipart upload does not exist.");
    return upload;
  }

  async function uploadPart(
    req: IncomingMessage,
    res: ServerResponse,
    auth: { payloadHash: string },
    bucket: string,
    key: string,
    uploadId: string,
    partNumberText: string | undefined,
  ) {
    const partNumber = Number(partNumberText);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000)
      throw new S3Failure(
        400,
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
      );
    findUpload(uploadId, bucket, key);
    const received = await receive(req, auth);
    // Aborted while the part was on its way: nothing to attach it to.
    const upload = uploads.get(uploadId);
    if (!upload) {
      await rm(received.file, { force: true });
      throw new S3Failure(404, "NoSuchUpload", "The specified multipart upload does not exist.");
    }
    const previous = upload.parts.get(partNumber);
    upload.parts.set(partNumber, received);
    if (previous) await rm(previous.file, { force: true });
    res.writeHead(200, { ETag: received.etag }).end();
  }

  async function complete(
    req: IncomingMessage,
    res: ServerResponse,
    auth: { payloadHash: string },
    bucketName: string,
    bucket: Map<string, StoredObject>,
    key: string,
    uploadId: string,
  ) {
    const upload = findUpload(uploadId, bucketName, key);
    const received = await receive(req, auth);
    const body = (await readSmall(received.file)).toString("utf8");
    await rm(received.file, { force: true });
    const listed = [
      ...body.matchAll(
        /<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]+)<\/ETag>\s*<\/Part>/g,
      ),
    ].map((m) => ({ partNumber: Number(m[1]), etag: unesc(m[2] ?? "") }));
    if (!listed.length)
      throw new S3Failure(400, "MalformedXML", "The XML you provided was not well-formed.");
    const chosen = listed.map(({ partNumber, etag }, i) => {
      const previous = listed[i - 1];
      if (previous && previous.partNumber >= partNumber)
        throw new S3Failure(
          400,
          "InvalidPartOrder",
          "The list of parts was not in ascending order.",
        );
      const part = upload.parts.get(partNumber);
      if (!part || part.etag !== etag)
        throw new S3Failure(
          400,
          "InvalidPart",
          "One or more of the specified parts could not be found.",
        );
      return part;
    });
    chosen.forEach((part, i) => {
      if (i === chosen.length - 1) return;
      if (part.size < minPartSize)
        throw new S3Failure(
          400,
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed object size.",
        );
      // R2's rule, stricter than S3's: every part but the last has the same size.
      if (part.size !== chosen[0]?.size)
        throw new S3Failure(
          400,
          "InvalidPart",
          "All non-trailing parts must have the same length.",
        );
    });
    const file = tempFile();
    try {
      await (await open(file, "w")).close();
      for (const part of chosen) {
        await pipeline(
          createReadStream(part.file, { highWaterMark: 1024 * 1024 }),
          createWriteStream(file, { flags: "a" }),
        );
      }
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    const etag = `"${createHash("md5")
      .update(Buffer.concat(chosen.map((p) => p.md5)))
      .digest("hex")}-${chosen.length}"`;
    uploads.delete(upload.id);
    await store(bucket, key, file, {
      size: chosen.reduce((sum, p) => sum + p.size, 0),
      etag,
      contentType: upload.contentType,
      contentDisposition: upload.contentDisposition,
    });
    await Promise.all([...upload.parts.values()].map((p) => rm(p.file, { force: true })));
    xml(
      res,
      200,
      `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${esc(bucketName)}</Bucket><Key>${esc(key)}</Key><ETag>${esc(etag)}</ETag></CompleteMultipartUploadResult>`,
    );
  }

  function getObject(
    req: IncomingMessage,
    res: ServerResponse,
    method: "GET" | "HEAD",
    bucket: Map<string, StoredObject>,
    key: string,
    param: (name: string) => string | undefined,
  ) {
    const object = bucket.get(key);
    if (!object) throw new S3Failure(404, "NoSuchKey", "The specified key does not exist.");
    const headers: Record<string, string> = {
      "Content-Type": param("response-content-type") ?? object.contentType,
      ETag: object.etag,
      "Last-Modified": object.lastModified.toUTCString(),
      "Accept-Ranges": "bytes",
    };
    const disposition = param("response-content-disposition") ?? object.contentDisposition;
    if (disposition) headers["Content-Disposition"] = disposition;
    const range = method === "GET" ? parseRange(header(req, "range"), object.size) : null;
    if (range === "unsatisfiable")
      throw new S3Failure(416, "InvalidRange", "The requested range is not satisfiable", {
        "Content-Range": `bytes */${object.size}`,
      });
    const [start, end] = range ?? [0, object.size - 1];
    headers["Content-Length"] = String(Math.max(0, end - start + 1));
    if (range) headers["Content-Range"] = `bytes ${start}-${end}/${object.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (method === "HEAD" || object.size === 0) return void res.end();
    return pipeline(createReadStream(object.file, { start, end, highWaterMark: 1024 * 1024 }), res);
  }

  function listObjects(
    res: ServerResponse,
    name: string,
    bucket: Map<string, StoredObject>,
    param: (name: string) => string | undefined,
  ) {
    const prefix = param("prefix") ?? "";
    const max = Math.min(1000, Number(param("max-keys") ?? 1000));
    const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix)).sort();
    const shown = keys.slice(0, max);
    xml(
      res,
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(name)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${shown.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${keys.length > shown.length}</IsTruncated>${shown
        .map((k) => {
          const o = bucket.get(k) as StoredObject;
          return `<Contents><Key>${esc(k)}</Key><Size>${o.size}</Size><ETag>${esc(o.etag)}</ETag></Contents>`;
        })
        .join("")}</ListBucketResult>`,
    );
  }

  const server = createServer((req, res) => {
    const entry: S3LogEntry = {
      method: req.method ?? "",
      url: req.url ?? "",
      auth: "anonymous",
      status: 0,
    };
    log.push(entry);
    const requestId = randomBytes(8).toString("hex").toUpperCase();
    res.setHeader("x-amz-request-id", requestId);
    res.on("finish", () => {
      entry.status = res.statusCode;
    });
    const origin = req.headers.origin;
    const corsAllowed = Boolean(origin && options.corsOrigins?.includes(origin));
    if (corsAllowed) {
      res.setHeader("Access-Control-Allow-Origin", origin as string);
      res.setHeader("Access-Control-Expose-Headers", "ETag");
      res.setHeader("Vary", "Origin");
    }
    if (req.method === "OPTIONS") {
      // A preflight carries no signature; the bucket's CORS rule alone answers it.
      if (!corsAllowed)
        return void res.writeHead(403).end("CORSResponse: This CORS request is not allowed.");
      res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST");
      res.setHeader(
        "Access-Control-Allow-Headers",
        req.headers["access-control-request-headers"] ?? "*",
      );
      res.setHeader("Access-Control-Max-Age", "600");
      return void res.writeHead(200).end();
    }
    handle(req, res, entry).catch((error: unknown) => {
      const failure =
        error instanceof S3Failure
          ? error
          : new S3Failure(
              500,
              "InternalError",
              error instanceof Error ? error.message : String(error),
            );
      entry.code = failure.code;
      // The rest of a refused upload is not read; close the connection rather than drain it.
      if (!req.complete) res.setHeader("Connection", "close");
      if (res.headersSent) return void res.destroy();
      if (req.method === "HEAD") return void res.writeHead(failure.status, failure.headers).end();
      xml(
        res,
        failure.status,
        `<Error><Code>${esc(failure.code)}</Code><Message>${esc(failure.message)}</Message><Resource>${esc((req.url ?? "").split("?")[0] ?? "")}</Resource><RequestId>${requestId}</RequestId></Error>`,
        failure.headers,
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const [accessKeyId = "", secretAccessKey = ""] = Object.entries(credentials)[0] ?? [];

  return {
    url,
    region,
    accessKeyId,
    secretAccessKey,
    /** Every request, in order, with how it was authenticated and the status it got. */
    log,
    /** Moves the server's clock (presigned URL expiry, request skew). */
    shiftTime(ms: number) {
      state.timeShiftMs += ms;
    },
    /** The keys stored in a bucket, sorted. */
    keys(bucket = "bucket"): string[] {
      return [...(buckets.get(bucket)?.keys() ?? [])].sort();
    },
    object(key: string, bucket = "bucket") {
      const object = buckets.get(bucket)?.get(key);
      return object ? { ...object } : null;
    },
    /** Multipart uploads started and neither completed nor aborted. */
    pendingUploads(): { key: string; parts: number }[] {
      return [...uploads.values()].map((u) => ({ key: u.key, parts: u.parts.size }));
    },
    /** Files on disk: objects, parts and temporary files (a failed upload must leave none). */
    async fileCount(): Promise<number> {
      const [data, tmp] = await Promise.all([
        readdir(join(root, "data")),
        readdir(join(root, "tmp")),
      ]);
      return data.length + tmp.length;
    },
    /** Stores a sparse object of `size` zero bytes without uploading it (large read tests). */
    async putSparse(key: string, size: number, bucket = "bucket") {
      const file = tempFile();
      const handle = await open(file, "w");
      await handle.truncate(size);
      await handle.close();
      const objects = buckets.get(bucket);
      if (!objects) throw new Error(`no bucket ${bucket}`);
      await store(objects, key, file, {
        size: (await stat(file)).size,
        etag: `"sparse-${size}"`,
        contentType: "application/octet-stream",
        contentDisposition: null,
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}

/** Query pairs as sent (form-decoded: `+` is a space), in order; a name without `=` has "". */
function parseQuery(raw: string): [string, string][] {
  return raw
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf("=");
      const name = at < 0 ? pair : pair.slice(0, at);
      const value = at < 0 ? "" : pair.slice(at + 1);
      return [
        decode(name.replace(/\+/g, " "), "query"),
        decode(value.replace(/\+/g, " "), "query"),
      ];
    });
}

function decode(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Failure(400, "InvalidURI", `Couldn't parse the specified URI (${where}).`);
  }
}

function uriEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function parseAmzDate(text: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const time = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return Number.isNaN(time) ? null : time;
}

/** One `bytes=` range as S3 reads it; null for none or an unparsable header (the whole object). */
function parseRange(value: string, size: number): [number, number] | "unsatisfiable" | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  return [start, end];
}

async function readSmall(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size > 1024 * 1024)
      throw new S3Failure(400, "MaxMessageLengthExceeded", "Your request was too big.");
    const buffer = Buffer.alloc(size);
    await handle.read(buffer, 0, size, 0);
    return buffer;
  } finally {
    await handle.close();
  }
}

function xml(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/xml",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unesc(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_, e: string) =>
    e.startsWith("#")
      ? String.fromCharCode(Number(e.slice(1)))
      : (({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e] ?? ""),
  );
}
