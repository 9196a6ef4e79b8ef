import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the worker moves the write-ahead log's pages into the database file. */
const EVERY_MS = 1_000;

/**
 * The worker's whole program (CommonJS, run with `eval`, so the bundle needs no second file): its
 * own connection to the file, a passive checkpoint every second, and a last one when told to stop.
 * A passive checkpoint waits for no reader or writer: the server's connection keeps writing to the
 * log meanwhile.
 */
const PROGRAM = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.filename);
const checkpoint = () => db.pragma("wal_checkpoint(PASSIVE)");
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on("message", () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface BackgroundCheckpoints {
  /** A last checkpoint, then the worker ends. */
  stop(): Promise<void>;
}

/**
 * Checkpoints of a SQLite database in WAL mode, done by a worker thread instead of by whichever
 * commit crosses 1,000 pages of log. A checkpoint copies those pages into the database file and
 * waits for the disk twice; run by a commit, it stopped the server's event loop meanwhile, and the
 * downloads waiting behind it made the slowest 1% of answers (docs/performance.md). The server's
 * connection has its automatic checkpoints turned off while the worker runs, and back on should
 * the worker die, so the log never grows without bound.
 */
export function checkpointInBackground(
  filename: string,
  setAutomatic: (pages: number) => void,
  onFailure: (error: Error) => void,
): BackgroundCheckpoints {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(PROGRAM, {
    eval: true,
    workerData: { driver, filename, everyMs: EVERY_MS },
  });
  // The worker alone keeps no process alive: a CLI command ends when its work does.
  worker.unref();
  setAutomatic(0);
  let stopping = false;
  const exited = new Promise<void>((done) => worker.once("exit", () => done()));
  worker.once("error", (error) => {
    if (!stopping) onFailure(error);
  });
  void exited.then(() => {
    if (!stopping) setAutomatic(1000);
  });
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      setAutomatic(1000);
      // Kept alive until its last checkpoint is done, or a process with nothing else to do would
      // end here and never run what follows the close (a CLI command's exit code).
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
