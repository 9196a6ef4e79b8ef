import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clamdScanner } from "../../src/adapters/scanner-clamd/index.ts";
import { nodeClamdConnect } from "../../src/adapters/scanner-clamd/node.ts";
import { freePort } from "./server.ts";

/**
 * Debian's clamd (`apt-get install clamav-daemon`; .ci/run installs it), never a downloaded
 * signature database: the tests write their own. Tests skip themselves where it is missing.
 */
export const CLAMD = ["/usr/sbin/clamd", "/usr/bin/clamd"].find((p) => existsSync(p));

/** Said in the skipped tests' names, so a run without clamd shows why they did not run. */
export const NO_CLAMD = CLAMD
  ? ""
  : " (skipped: clamd is not installed; apt-get install clamav-daemon)";

/** Bytes the test signature matches wherever they appear in a file. */
export const MALWARE_MARKER = "TOLLGATE-TEST-MALWARE-MARKER-7f3a";
/** The name clamd reports: the signature's, marked as not ClamAV's own. */
export const MALWARE_SIGNATURE = "Tollgate.Test.Malware.UNOFFICIAL";

export interface RunningClamd {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts clamd on a free port of 127.0.0.1 with a temporary config and a one-signature database
 * made here (an .ndb body signature of MALWARE_MARKER); resolves once it answers PING.
 */
export async function startClamd(opts: { streamMaxLength?: string } = {}): Promise<RunningClamd> {
  if (!CLAMD) throw new Error("clamd is not installed (apt-get install clamav-daemon)");
  const dir = mkdtempSync(join(tmpdir(), "tollgate-clamd-"));
  const hex = Buffer.from(MALWARE_MARKER).toString("hex");
  writeFileSync(join(dir, "tollgate-test.ndb"), `Tollgate.Test.Malware:0:*:${hex}\n`);
  const port = await freePort();
  writeFileSync(
    join(dir, "clamd.conf"),
    [
      "Foreground yes",
      `TCPSocket ${port}`,
      "TCPAddr 127.0.0.1",
      `DatabaseDirectory ${dir}`,
      `TemporaryDirectory ${dir}`,
      `StreamMaxLength ${opts.streamMaxLength ?? "1M"}`,
      "LogTime no",
      "SelfCheck 0",
      "",
    ].join("\n"),
  );
  let output = "";
  const child: ChildProcess = spawn(CLAMD, ["-c", join(dir, "clamd.conf")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const close = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const scanner = clamdScanner({
    host: "127.0.0.1",
    port,
    connect: nodeClamdConnect,
    commandTimeoutMs: 1_000,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`clamd exited (${child.exitCode}): ${output}`);
    }
    try {
      await scanner.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`clamd did not answer PING within 30 s: ${String(error)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url: `tcp://127.0.0.1:${port}`, port, close };
}
