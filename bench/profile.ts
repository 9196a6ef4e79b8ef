/**
 * `npx tsx bench/profile.ts FILE.cpuprofile [N]`: where a server's CPU time went, from the
 * profile `npm run bench -- --profile` writes (node --cpu-prof): the top functions by self time,
 * self time summed per package or source folder, and time with callees by function.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const [file, top = "25"] = process.argv.slice(2);
if (!file) throw new Error("usage: tsx bench/profile.ts FILE.cpuprofile [N]");
const profile = JSON.parse(readFileSync(file, "utf8")) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};

/**
 * The server runs bundled (bench/processes.ts): esbuild heads each module's code with a
 * `// path` comment, which names the source file of every line of the bundle.
 */
const modulesOf = new Map<string, { line: number; path: string }[]>();
function sourceOf(url: string, line: number): string {
  if (!url.endsWith("/server/server.js")) return url;
  let starts = modulesOf.get(url);
  if (!starts) {
    starts = [];
    const lines = readFileSync(new URL(url), "utf8").split("\n");
    lines.forEach((text, i) => {
      const path = /^\/\/ ((?:src|bench|node_modules|scripts)\/\S+)$/.exec(text)?.[1];
      if (path) starts?.push({ line: i, path });
    });
    modulesOf.set(url, starts);
  }
  let found = "bundle";
  for (const start of starts) {
    if (start.line > line) break;
    found = start.path;
  }
  return `file:///bundle/${found}`;
}

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  const { functionName, lineNumber } = node.callFrame;
  const url = sourceOf(node.callFrame.url, lineNumber);
  const where = url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, "$1/");
  const fn = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  const place =
    /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(where)?.[1] ??
    /^(src\/[^/]+\/[^/]+|bench)/.exec(where)?.[1] ??
    (where.startsWith("node:") ? "node internals" : functionName || "(native)");
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
}
// Time with callees: each sample counts once for every distinct function on its stack.
const parentOf = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
const nameOf = (node: Node) => {
  const where = sourceOf(node.callFrame.url, node.callFrame.lineNumber).replace(
    /^file:\/\/.*?\/(node_modules|src|bench)\//,
    "$1/",
  );
  return `${node.callFrame.functionName || "(anonymous)"} ${where}:${node.callFrame.lineNumber + 1}`;
};
const withCallees = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const node = nodeById.get(at);
    if (node) seen.add(nameOf(node));
  }
  for (const name of seen) withCallees.set(name, (withCallees.get(name) ?? 0) + us);
}
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
};
console.log(`${(total / 1e6).toFixed(1)} s sampled`);
print("self time by function", byFunction);
print("self time by package or folder", byPlace);
print("time with callees, by function", withCallees);
