import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Where `tollgate serve` listens, written to `serve.json` in the data folder while it runs, so a
 * CLI command started in another terminal without PORT or PUBLIC_URL finds the shop (and the
 * local Stripe beside it) instead of assuming the default port.
 */
export interface Listening {
  pid: number;
  publicUrl: string;
  port: number;
  /** The local Stripe's API URL when payments go to it, otherwise null. */
  localStripeUrl: string | null;
  startedAt: string;
}

const FILE = "serve.json";

/** Writes the record; the function it returns removes it, unless another process wrote it since. */
export function recordListening(dir: string, listening: Listening): () => void {
  const file = join(dir, FILE);
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(listening, null, 2)}\n`);
  renameSync(temp, file);
  return () => {
    if (read(file)?.pid === listening.pid) rmSync(file, { force: true });
  };
}

/** The shop serving from this data folder; null without a record, or when its process is gone. */
export function findListening(dir: string): Listening | null {
  const found = read(join(dir, FILE));
  return found && isAlive(found.pid) ? found : null;
}

function read(file: string): Listening | null {
  try {
    const record = JSON.parse(readFileSync(file, "utf8")) as Listening | null;
    return typeof record?.pid === "number" &&
      typeof record.port === "number" &&
      typeof record.publicUrl === "string"
      ? record
      : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, run by another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A port another program holds, said in one line: printed without a stack trace. */
export class PortTaken extends Error {
  override readonly name = "PortTaken";
}

export const isAddressInUse = (error: unknown) =>
  (error as NodeJS.ErrnoException | null)?.code === "EADDRINUSE";
