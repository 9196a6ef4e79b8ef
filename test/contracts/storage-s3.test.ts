/**
 * The ObjectStore contract (./objectStore.contract.ts) against S3ObjectStore, on the local S3
 * server (test/support/s3-server.ts), which checks every request's SigV4 signature as S3 does.
 */
import { S3ObjectStore, type S3StoreOptions } from "../../src/adapters/storage-s3/index.ts";
import { nodeSigningCrypto } from "../../src/adapters/storage-s3/node.ts";
import { startS3Server } from "../support/s3-server.ts";
import { objectStoreContract } from "./objectStore.contract.ts";

const MiB = 1024 * 1024;

objectStoreContract("S3ObjectStore (against the local S3 server, which checks SigV4)", async () => {
  const server = await startS3Server();
  const options: S3StoreOptions = {
    endpoint: server.url,
    bucket: "bucket",
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    signingCrypto: nodeSigningCrypto,
    partSize: 5 * MiB,
  };
  return {
    store: new S3ObjectStore(options),
    async storedMetadata(key) {
      const object = server.object(key);
      return object
        ? { contentType: object.contentType, contentDisposition: object.contentDisposition ?? "" }
        : null;
    },
    signedUrls: { fetch: (url, init) => fetch(url, init), advanceClock: server.shiftTime },
    largeObject: {
      bytes: 1024 * MiB,
      create: (key) => server.putSparse(key, 1024 * MiB),
      // The S3 server runs in this process too, with buffers of its own.
      headroomMiB: { rss: 128, arrayBuffers: 96 },
    },
    unreachable: async () => new S3ObjectStore({ ...options, bucket: "missing" }),
    close: () => server.close(),
  };
});
