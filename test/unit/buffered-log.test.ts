import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { buffered } from "../../src/adapters/log-console/bufferedStdio.ts";
import { consoleLogger } from "../../src/adapters/log-console/index.ts";

function collecting() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      done();
    },
  });
  return { writes, stream };
}

describe("the server's buffered log", () => {
  it("writes a turn's lines in one write per stream, in order, after the turn", async () => {
    const out = collecting();
    const err = collecting();
    const log = consoleLogger({ sink: buffered({ out: out.stream, err: err.stream }) });
    log.info("payment event handled", { id: "evt_1" });
    log.error("payment event failed", { id: "evt_2", error: "boom" });
    log.warn("order flagged", { reason: "amount 1 is not 2" });
    expect(out.writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0]).toMatch(
      /^\S+ info {2}payment event handled id=evt_1\n\S+ warn {2}order flagged reason="amount 1 is not 2"\n$/,
    );
    expect(err.writes).toEqual([
      expect.stringMatching(/error payment event failed id=evt_2 error=boom\n$/),
    ]);
  });

  it("loses nothing when the process exits in the same turn", () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-log-"));
    const script = join(dir, "exit.ts");
    const src = resolve("src/adapters/log-console");
    writeFileSync(
      script,
      `import { bufferedStdio } from ${JSON.stringify(`${src}/bufferedStdio.ts`)};
import { consoleLogger } from ${JSON.stringify(`${src}/index.ts`)};
const log = consoleLogger({ sink: bufferedStdio() });
log.info("shutting down", { signal: "SIGTERM" });
log.error("last words");
process.exit(3);`,
    );
    const child = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
    expect(child.status).toBe(3);
    expect(child.stdout).toMatch(/info {2}shutting down signal=SIGTERM\n$/);
    expect(child.stderr).toMatch(/error last words\n$/);
  });
});
