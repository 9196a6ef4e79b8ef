import type { LineSink } from "./index.ts";

/**
 * Standard output and error for a server's log, written once per turn of the event loop instead
 * of once per line: Node writes to a file or pipe synchronously, one system call a line, and a
 * paid webhook logs five (on two cores that was 6% of its time). Lines keep their order within
 * each stream; what is waiting is written when the process exits, so only a kill -9 can lose the
 * last turn's lines (docs/decisions/0010).
 */
export function bufferedStdio(): LineSink & { flush(): void } {
  shared ??= buffered({ out: process.stdout, err: process.stderr });
  return shared;
}

let shared: (LineSink & { flush(): void }) | undefined;

/** The same over any two streams (tests). */
export function buffered(streams: {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}): LineSink & { flush(): void } {
  let out = "";
  let err = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (out) streams.out.write(out);
    if (err) streams.err.write(err);
    out = "";
    err = "";
  };
  const later = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  process.on("exit", flush);
  return {
    out(line) {
      out += `${line}\n`;
      later();
    },
    err(line) {
      // An error's line goes out with what was logged before it, in the same turn.
      err += `${line}\n`;
      later();
    },
    flush,
  };
}
