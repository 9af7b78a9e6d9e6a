// npm run bench:shim — the CPU a message costs through the nullmailer-inject
// shim, as a ratio to bare nullmailer-inject measured in the same run.
// Target: <= 1.3x on cron mail (a leading From line) and on mail without one.
// Needs root (a private mount namespace holds the spool nullmailer-queue
// writes) and the unfixed nullmailer-inject of scripts/test-deps.mjs (else
// Debian's). Writes bench/shim-results.json and the section in
// docs/performance.md; exits 1 when the target is missed.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { nullmailer } from "../roles/nullmailer/index.ts";
import { nullmailerPlatforms } from "../roles/nullmailer/platforms.ts";
import "../src/cli/wiring.ts";
import { parseInventory } from "../src/engine/inventory.ts";
import { roleResources } from "../src/engine/roles.ts";
import { maskingResolver } from "../src/inventory/secrets.ts";
import { debian } from "../src/platforms/debian.ts";
import { REPO } from "../test/support/cli.ts";
import { SHIM_RESULTS, SHIM_TARGET, shimMarkdown, type ShimCase, type ShimResults } from "./shim-report.ts";

const MESSAGES = Number(process.env.BENCH_SHIM_MESSAGES ?? 100);
const ROUNDS = Number(process.env.BENCH_SHIM_ROUNDS ?? 15);
const UNFIXED = path.join(REPO, ".deps/nullmailer-unfixed/nullmailer-inject");
const INJECT = existsSync(UNFIXED) ? UNFIXED : "/usr/bin/nullmailer-inject";

const BODY = "Content-Type: text/plain\n\nThe job printed this.\nAnd this, on a second line.\n";
const MAIL = {
  "cron mail (leading From line)": `From root Mon Nov 14 23:42 UTC 2016\nTo: root\nSubject: Cron <root@zone1> echo hi\nAuto-Submitted: auto-generated\nX-Cron-User: root\n${BODY}`,
  "mail without a From line": `To: root\nSubject: backup report\nAuto-Submitted: auto-generated\n${BODY}`,
};

/** The previous shim: one line read, the rest through cat into a pipe. */
const CAT_PIPE = (real: string) => `#!/bin/sh
{
  LC_ALL=C; export LC_ALL
  if IFS= read -r mf_line; then mf_nl='
'; else mf_nl=''; fi
  case $mf_line in
    'From '* | '>From '*) ;;
    *) printf '%s%s' "$mf_line" "$mf_nl" ;;
  esac
  exec cat
} | exec '${real}' "$@"
`;

function roleShim(dir: string, inject: string): { path: string; content: string; realPath: string } {
  const inv = parseInventory("hosts:\n  h1: { platform: debian, roles: [nullmailer], domain: example.test, relay: { host: 127.0.0.1 } }\n", path.join(dir, "inventory.yaml"));
  const shim = roleResources(nullmailer, inv.hosts[0]!, { platform: debian, data: { ...nullmailerPlatforms.debian, inject }, secrets: maskingResolver }).find(
    (r) => r.kind === "shim",
  );
  if (!shim || shim.kind !== "shim") throw new Error("the nullmailer role made no shim");
  return shim;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function main(): void {
  if (process.getuid?.() !== 0) throw new Error("bench:shim needs root (a private mount namespace for nullmailer's spool)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-bench-shim-"));
  try {
    const shim = roleShim(dir, path.join(dir, "nullmailer-inject"));
    copyFileSync(INJECT, shim.realPath);
    writeFileSync(shim.path, shim.content, { mode: 0o755 });
    const catPipe = path.join(dir, "cat-pipe-shim");
    writeFileSync(catPipe, CAT_PIPE(shim.realPath), { mode: 0o755 });
    const programs = { bare: shim.realPath, shim: shim.path, catPipe };
    for (const [name, text] of Object.entries(MAIL)) writeFileSync(path.join(dir, `${name.split(" ")[0]}.eml`), text);
    // One namespace per round; per program N messages from a file under bash's `time` (CPU of every process started, from wait4, in ms).
    const round = `spool=$1; shift
mount --bind "$spool" /var/spool/nullmailer || exit 1
cd /var/spool/nullmailer && mkdir -p queue tmp failed && { [ -p trigger ] || mkfifo trigger; } && chown -R mail:root . && chmod 750 queue tmp
for mf_p; do
  rm -f queue/*
  bash --norc --noprofile -c 'TIMEFORMAT="%3U %3S"; time { i=0; while [ $i -lt '"$MF_N"' ]; do "$1" -a root@example.org < "$2" > /dev/null || exit 1; i=$((i + 1)); done; }' sh "$mf_p" "$MF_MAIL" 2>&1
done`;
    const seconds = (t: string) => t.trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0);
    const cases: ShimCase[] = [];
    for (const [mail, _text] of Object.entries(MAIL)) {
      const file = path.join(dir, `${mail.split(" ")[0]}.eml`);
      const runs: Record<keyof typeof programs, number[]> = { bare: [], shim: [], catPipe: [] };
      const ratios: number[] = [];
      const catRatios: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const spool = mkdtempSync(path.join(dir, "spool-"));
        // alternate the order so a change of load affects both alike
        const order = (i % 2 ? ["shim", "catPipe", "bare"] : ["bare", "catPipe", "shim"]) as (keyof typeof programs)[];
        const out = execFileSync("unshare", ["-m", "--propagation", "private", "sh", "-c", round, "round", spool, ...order.map((k) => programs[k])], {
          encoding: "utf8",
          env: { PATH: process.env.PATH, MF_N: String(MESSAGES), MF_MAIL: file },
          stdio: ["ignore", "pipe", "inherit"],
        })
          .split("\n")
          .filter((l) => /^[\d.]+ [\d.]+$/.test(l));
        if (out.length !== order.length) throw new Error(`a round printed ${JSON.stringify(out)}`);
        const t = Object.fromEntries(order.map((k, j) => [k, seconds(out[j]!) / MESSAGES])) as Record<keyof typeof programs, number>;
        for (const k of order) runs[k].push(t[k]);
        ratios.push(t.shim / t.bare);
        catRatios.push(t.catPipe / t.bare);
        rmSync(spool, { recursive: true, force: true });
      }
      cases.push({ mail, bareMs: median(runs.bare) * 1000, shimMs: median(runs.shim) * 1000, ratio: median(ratios), catPipeRatio: median(catRatios) });
      process.stderr.write(`bench:shim: ${JSON.stringify(cases.at(-1))}\n`);
    }
    const results: ShimResults = {
      meta: {
        date: new Date().toISOString().slice(0, 10),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
        shell: "dash",
        inject: INJECT === UNFIXED ? "nullmailer-inject 2.2 from Debian's source with the 2.1 From-line fix reverted" : "Debian's nullmailer-inject",
        messages: MESSAGES,
        rounds: ROUNDS,
        loadavg: os.loadavg(),
      },
      cases,
      target: { max: SHIM_TARGET, met: cases.every((c) => c.ratio <= SHIM_TARGET) },
    };
    writeFileSync(SHIM_RESULTS(REPO), `${JSON.stringify(results, null, 2)}\n`);
    const doc = path.join(REPO, "docs/performance.md");
    const text = readFileSync(doc, "utf8");
    const start = text.indexOf("\n## The nullmailer-inject shim\n");
    const end = start < 0 ? -1 : text.indexOf("\n## ", start + 5);
    const section = shimMarkdown(SHIM_RESULTS(REPO));
    writeFileSync(doc, start < 0 ? `${text.trimEnd()}\n${section}` : `${text.slice(0, start)}${section}${end < 0 ? "" : text.slice(end)}`);
    process.stdout.write(section);
    if (!results.target.met) {
      process.stderr.write("bench:shim: the target was missed (see bench/shim-results.json)\n");
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
