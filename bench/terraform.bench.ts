// npm run bench:terraform — what Terraform costs on top of mailfleet: the CPU
// of `terraform apply` of a stack made with `synth --plan` (each host's
// local-exec runs `mailfleet apply PLAN --host NAME`) against the CPU of
// `mailfleet apply PLAN` of the same fleet, both applying the same saved plan
// to fresh sandbox zones, measured in the same run. CPU is user + system of
// the whole process tree (bash's `times`). Target: at most 2x.
// BENCH_TF_HOSTS (default 100) sets the fleet's size; 1,000 takes minutes.
// Writes bench/terraform-results.json; exits 1 when the target is missed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { zoneFleetInventory } from "./zone-fleet.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOSTS = Number(process.env.BENCH_TF_HOSTS ?? 100);
const TARGET = 2;
const MAILFLEET = `'${process.execPath}' '${path.join(REPO, "bin/mailfleet.js")}'`;

/** Runs `command` under bash in `cwd`; returns wall seconds and the CPU seconds of everything it started. */
function measure(command: string, cwd: string, env: Record<string, string> = {}): { wall: number; cpu: number } {
  const t = process.hrtime.bigint();
  const log = path.join(dir, "command.log");
  const out = execFileSync("bash", ["-c", `${command} >"$LOG" 2>&1 || { echo "failed: $?" >&2; tail -40 "$LOG" >&2; exit 1; }; times`], { cwd, env: { ...process.env, ...env, LOG: log }, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const children = out.trim().split("\n").at(-1)!.split(/\s+/);
  const secs = (s: string) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(s);
    if (!m) throw new Error(`unexpected output of times: ${out}`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  return { wall, cpu: secs(children[0]!) + secs(children[1]!) };
}

const tfEnv = (dir: string) => {
  const rc = path.join(dir, "terraformrc");
  writeFileSync(rc, "");
  return { TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
};

const loadBefore = os.loadavg().map((x) => Number(x.toFixed(2)));
const dir = mkdtempSync(path.join(os.tmpdir(), "mf-bench-tf-"));
try {
  const inventory = zoneFleetInventory(dir, HOSTS);
  measure(`${MAILFLEET} plan -i fleet.yaml --out review.plan`, dir);
  process.stderr.write(`bench: ${HOSTS} hosts planned\n`);

  const direct = measure(`${MAILFLEET} apply review.plan`, dir);
  process.stderr.write(`bench: mailfleet apply ${JSON.stringify(direct)}\n`);
  rmSync(path.join(dir, "sandbox"), { recursive: true, force: true });

  const env = tfEnv(dir);
  measure(`${MAILFLEET} synth -i fleet.yaml --plan review.plan --exec "${MAILFLEET}"`, dir);
  const stack = path.join(dir, "cdktf.out/stacks/mailfleet");
  measure("terraform init -input=false", stack, env);
  const viaTerraform = measure("terraform apply -auto-approve -input=false -parallelism=10", stack, env);
  process.stderr.write(`bench: terraform apply ${JSON.stringify(viaTerraform)}\n`);

  const ratio = viaTerraform.cpu / direct.cpu;
  const results = {
    benchmark: "terraform",
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    hosts: HOSTS,
    inventory: path.basename(inventory),
    mailfleetApply: { what: "mailfleet apply PLAN, the whole fleet", cpuSeconds: Number(direct.cpu.toFixed(2)), wallSeconds: Number(direct.wall.toFixed(2)) },
    terraformApply: { what: "terraform apply of synth --plan (one mailfleet apply PLAN --host per host)", cpuSeconds: Number(viaTerraform.cpu.toFixed(2)), wallSeconds: Number(viaTerraform.wall.toFixed(2)) },
    perHost: { what: "CPU seconds per host", mailfleetApply: Number((direct.cpu / HOSTS).toFixed(3)), terraformApply: Number((viaTerraform.cpu / HOSTS).toFixed(3)) },
    cpuRatio: Number(ratio.toFixed(2)),
    target: TARGET,
    met: ratio <= TARGET,
    loadAverage: { before: loadBefore, after: os.loadavg().map((x) => Number(x.toFixed(2))) },
  };
  // One entry per fleet size: the 1,000-host run is kept beside the default one.
  const file = path.join(REPO, "bench/terraform-results.json");
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { bySize?: Record<string, unknown> }).bySize ?? {} : {};
  writeFileSync(file, `${JSON.stringify({ bySize: { ...previous, [HOSTS]: results } }, null, 2)}\n`);
  console.log(`terraform apply against mailfleet apply, ${HOSTS} sandbox zones, the same saved plan`);
  console.log(`  mailfleet apply PLAN       ${direct.cpu.toFixed(2)} s CPU (${direct.wall.toFixed(2)} s wall)`);
  console.log(`  terraform apply (synth --plan)  ${viaTerraform.cpu.toFixed(2)} s CPU (${viaTerraform.wall.toFixed(2)} s wall): ${ratio.toFixed(2)}x`);
  console.log(`  per host                   ${((direct.cpu / HOSTS) * 1000).toFixed(0)} ms CPU through mailfleet, ${((viaTerraform.cpu / HOSTS) * 1000).toFixed(0)} ms through terraform`);
  console.log(`  target    at most ${TARGET}x the CPU: ${results.met ? "PASS" : "FAIL"}`);
  if (!results.met) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
