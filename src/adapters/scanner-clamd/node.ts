import { connect } from "node:net";
import type { ClamdConnect } from "./index.ts";

/**
 * clamd through a Node TCP socket, as Web streams for the shared protocol code. Not
 * Duplex.toWeb: when clamd answers early (a size limit) and closes, the next write fails with
 * EPIPE, and an errored Web stream would drop the answer it had already received. Here a socket
 * error only ends the readable side, after what arrived; the write reports it.
 */
export const nodeClamdConnect: ClamdConnect = ({ host, port }) =>
  new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      let writeError: Error | null = null;
      socket.on("error", (error) => {
        writeError = error;
      });
      const readable = new ReadableStream<Uint8Array>({
        start(controller) {
          let open = true;
          const end = () => {
            if (open) controller.close();
            open = false;
          };
          socket.on("data", (data: Buffer) => {
            if (open) controller.enqueue(new Uint8Array(data));
          });
          socket.on("end", end);
          socket.on("close", end);
        },
        cancel() {
          socket.destroy();
        },
      });
      const writable = new WritableStream<Uint8Array>({
        write: (chunk) =>
          new Promise<void>((done, fail) => {
            if (writeError || socket.destroyed) {
              fail(writeError ?? new Error("the connection is closed"));
              return;
            }
            // The callback comes once the bytes are handed to the kernel: one chunk in flight.
            socket.write(chunk, (error) => (error ? fail(error) : done()));
          }),
        close: () =>
          new Promise<void>((done) => {
            socket.end(done);
          }),
      });
      resolve({
        readable,
        writable,
        close: () => {
          socket.destroy();
        },
      });
    });
  });
