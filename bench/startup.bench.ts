// npm run bench (part; alone: npm run bench:startup): how long the compiled
// CLI takes to start, as ratios to `node -e 0` measured in the same run, and
// what `npx mailfleet` adds. Terraform's local-exec starts
// mailfleet once per host, and small fleets are start-up bound. The commands
// run interleaved (baseline, --help, validate, npx --help, baseline, ...) so a drifting
// machine load hits them all alike; each figure is the median of its runs.
// Writes bench/startup-results.json (docs/performance.md shows it).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "../test/support/cli.ts";

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 21);
const TARGETS = { help: 2, validate: 3 };

const bin = path.join(REPO, "bin/mailfleet.js");
const node = process.execPath;
/** Each command as a user starts it: node on the bin (what an installed `mailfleet` runs), and `npx mailfleet` in the checkout, as the README offers both. */
const commands = {
  baseline: [node, "-e", "0"],
  help: [node, bin, "--help"],
  validate: [node, bin, "validate", "-i", path.join(REPO, "examples/sandbox-fleet.yaml")],
  npxHelp: ["npx", "--no-install", "mailfleet", "--help"],
} as const;
type Name = keyof typeof commands;

function once([cmd, ...args]: readonly string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd!, args, { cwd: REPO, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

spawnSync(process.execPath, [path.join(REPO, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" });
const times: Record<Name, number[]> = { baseline: [], help: [], validate: [], npxHelp: [] };
for (const name of Object.keys(commands) as Name[]) once(commands[name]); // warm the page cache
for (let i = 0; i < RUNS; i++) for (const name of Object.keys(commands) as Name[]) times[name].push(once(commands[name]));

const base = median(times.baseline);
const result = {
  meta: { date: new Date().toISOString().slice(0, 10), cpus: os.cpus().length, node: process.version, runs: RUNS },
  medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(median(v), 1)])),
  // npx is npm's own start-up on top of mailfleet's: shown, no target of ours
  ratios: { help: round(median(times.help) / base), validate: round(median(times.validate) / base), npxHelp: round(median(times.npxHelp) / base) },
  targets: {
    help: { max: TARGETS.help, met: median(times.help) / base <= TARGETS.help },
    validate: { max: TARGETS.validate, met: median(times.validate) / base <= TARGETS.validate },
  },
};
writeFileSync(path.join(REPO, "bench/startup-results.json"), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (!result.targets.help.met || !result.targets.validate.met) {
  process.stderr.write("bench: a start-up target was missed (see bench/startup-results.json)\n");
  process.exitCode = 1;
}
