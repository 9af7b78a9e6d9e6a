// The inject shim's figures (bench/shim-results.json, written by
// bench/shim.bench.ts) as a section of docs/performance.md.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface ShimCase {
  /** Which mail: cron mail with its From line, or mail without one. */
  mail: string;
  /** CPU seconds (user + system, the program and its children) per message, medians over the rounds. */
  bareMs: number;
  shimMs: number;
  /** Median of the rounds' ratios shim / bare (each round measures both). */
  ratio: number;
  /** The previous shim (read one line, then `cat` into a pipe), for comparison. */
  catPipeRatio: number;
}

export interface ShimResults {
  meta: { date: string; cpus: number; cpuModel: string; shell: string; inject: string; messages: number; rounds: number; loadavg: number[] };
  cases: ShimCase[];
  target: { max: number; met: boolean };
}

export const SHIM_TARGET = 1.3;

export function shimMarkdown(file: string): string {
  if (!existsSync(file)) return "";
  const r = JSON.parse(readFileSync(file, "utf8")) as ShimResults;
  const rows = r.cases.map(
    (c) => `| ${c.mail} | ${c.bareMs.toFixed(2)} ms | ${c.shimMs.toFixed(2)} ms | **${c.ratio.toFixed(2)}x** | ${c.catPipeRatio.toFixed(2)}x |`,
  );
  return `
## The nullmailer-inject shim

\`npm run bench:shim\` (part of \`npm run bench\`) injects ${r.meta.messages} messages ${r.meta.rounds} times
into a real nullmailer queue (a private mount namespace with its own spool:
nullmailer-queue writes, fsyncs and pulls the trigger as on a host), once
through bare \`nullmailer-inject\` and once through the shim the role renders
in front of the same binary, alternating, with ${r.meta.shell} as /bin/sh. CPU is user
+ system time of everything each message starts (the shell, the shim,
nullmailer-inject, nullmailer-queue), from bash's \`time\`. A round's
ratio is shim over bare in that round; the table shows the medians.

${r.meta.date}, ${r.meta.cpus} CPUs (${r.meta.cpuModel}), ${r.meta.inject}, load average ${r.meta.loadavg.map((l) => l.toFixed(2)).join(" ")}.

| mail | bare inject | through the shim | ratio | previous shim (cat pipe) |
| --- | ---: | ---: | ---: | ---: |
${rows.join("\n")}

Target: <= ${r.target.max}x on both: ${r.target.met ? "met" : "MISSED"}. The shim reads a message of up
to 4 KiB with the shell's \`read\` and hands it over as a here-document (no
process of its own but the shell); a larger one goes through \`cat\` after its
first 4 KiB. Raw figures: [bench/shim-results.json](../bench/shim-results.json).
`;
}

export const SHIM_RESULTS = (repo: string) => path.join(repo, "bench/shim-results.json");
