import type { LoadJob, LoadResult } from "./load.ts";
import type { BenchServer, LoadGenerator } from "./processes.ts";
import { median } from "./report.ts";
import { type Options, profileFile } from "./setup.ts";

type Target = Omit<Extract<LoadJob, { kind: "requests" }>, "kind" | "connections" | "seconds"> & {
  /** The status every answer must have. */
  status: string;
};

/**
 * Loads each target in turn, round after round, so that a noisy neighbour hurts them alike, and
 * answers each one's median round. The first target is the baseline; the others are profiled in
 * the first round when `--profile` asks. Any other status, or an error, fails the benchmark.
 */
export async function alternatingRounds<Name extends string>(
  run: { label: string; server: BenchServer; load: LoadGenerator; opts: Options },
  targets: Record<Name, Target>,
  connections: number,
): Promise<Record<Name, LoadResult>> {
  const { label, server, load, opts } = run;
  const names = Object.keys(targets) as Name[];
  const seconds = opts.quick ? 0.5 : 5;
  const rounds = opts.quick ? 1 : 3;
  const job = (name: Name, seconds: number) => {
    const { status: _status, ...target } = targets[name];
    return { ...target, connections, seconds };
  };
  for (const name of names) await load.requests(job(name, opts.quick ? 0.3 : 2));
  const runs = new Map<Name, LoadResult[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [index, name] of names.entries()) {
      const profile = round === 0 && index > 0 ? profileFile(opts, `${label}-${name}`) : null;
      const result = await server.profiled(profile, () => load.requests(job(name, seconds)));
      const other = Object.keys(result.statuses).filter((s) => s !== targets[name].status);
      if (other.length || result.errors)
        throw new Error(`${name}: ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
      runs.get(name)?.push(result);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(runs.get(name) ?? [])])) as Record<
    Name,
    LoadResult
  >;
}
