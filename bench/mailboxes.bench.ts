// npm run bench (part): what a hub's mailboxes cost a plan. Each mailbox's
// password reaches the host as a bcrypt hash (~90 ms each); a re-plan with
// unchanged passwords must not pay that again (roles/lib/mail/password-cache.ts),
// and a first apply hashes each new password once, on every core.
// One sandbox hub (postfix-hub + dovecot, local transport under a root
// prefix), measured in the same run with 1 and with BENCH_MAILBOXES mailboxes.
// Writes bench/mailboxes-results.json (docs/performance.md shows it).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { hashSync } from "bcryptjs";
import { execa } from "execa";
import YAML from "yaml";
import { mailboxSalt } from "../roles/lib/mail/passwords.ts";
import { REPO } from "../test/support/cli.ts";

const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_RATIO = 2;

const work = mkdtempSync(path.join(os.tmpdir(), "mf-bench-mailboxes-"));
const cache = path.join(work, "cache");
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function hub(mailboxes: number): string {
  const dir = path.join(work, `hub-${mailboxes}`);
  mkdirSync(path.join(dir, "secrets"), { recursive: true });
  const users: Record<string, { password: { file: string } }> = {};
  for (let i = 0; i < mailboxes; i++) {
    writeFileSync(path.join(dir, "secrets", `u${i}`), `password-${mailboxes}-${i}\n`, { mode: 0o600 });
    users[`u${i}`] = { password: { file: `secrets/u${i}` } };
  }
  const inventory = path.join(dir, "inventory.yaml");
  writeFileSync(
    inventory,
    YAML.stringify({
      defaults: { domain: "example.org", adminaddr: "u0@one.example" },
      groups: {
        hubs: {
          platform: "debian",
          roles: ["postfix-hub", "dovecot"],
          mail: { domains: { "one.example": { users, aliases: { postmaster: "u0" } } } },
          dovecot: { tls: { cert: "/etc/ssl/certs/mail.pem", key: "/etc/ssl/private/mail.key" } },
          hosts: { hub: { address: "10.200.0.7", transport: { type: "local", root: path.join(dir, "root") } } },
        },
      },
    }),
  );
  return inventory;
}

async function mailfleet(args: string[], expectCode: number): Promise<number> {
  const started = performance.now();
  const r = await execa(process.execPath, [path.join(REPO, "bin/mailfleet.js"), ...args], {
    reject: false,
    env: { NO_COLOR: "1", CI: "1", MAILFLEET_CACHE_DIR: cache },
  });
  if (r.exitCode !== expectCode) throw new Error(`mailfleet ${args.join(" ")} exited ${r.exitCode} (expected ${expectCode})\n${String(r.stderr).slice(-3000)}\n${String(r.stdout).slice(-3000)}`);
  return (performance.now() - started) / 1000;
}

const best = async (f: () => Promise<number>) => {
  let b = Infinity;
  for (let i = 0; i < RUNS; i++) b = Math.min(b, await f());
  return b;
};
const cacheLines = () => readFileSync(path.join(cache, "password-hashes"), "utf8").split("\n").filter(Boolean).length;

try {
  await execa(process.execPath, [path.join(REPO, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" });
  // one core's bcrypt rate, in this process, as the first apply's baseline
  const sample = 20;
  let started = performance.now();
  for (let i = 0; i < sample; i++) hashSync(`password-${i}`, mailboxSalt(`sample${i}@one.example`));
  const oneCorePerSecond = sample / ((performance.now() - started) / 1000);

  const one = hub(1);
  await mailfleet(["apply", "--yes", "-i", one], 0);
  const replanOne = await best(() => mailfleet(["plan", "--detailed-exitcode", "-i", one], 0));

  const many = hub(MAILBOXES);
  const before = cacheLines();
  started = performance.now();
  await mailfleet(["apply", "--yes", "-i", many], 0);
  const firstApply = (performance.now() - started) / 1000;
  const hashed = cacheLines() - before;
  const replanMany = await best(() => mailfleet(["plan", "--detailed-exitcode", "-i", many], 0));

  writeFileSync(path.join(path.dirname(many), "secrets", "u1"), "a-new-password\n");
  const beforeChange = cacheLines();
  await mailfleet(["plan", "--detailed-exitcode", "-i", many], 2);
  const hashedAfterChange = cacheLines() - beforeChange;

  const ratio = replanMany / replanOne;
  const result = {
    meta: { date: new Date().toISOString().slice(0, 10), cpus: os.availableParallelism(), node: process.version, mailboxes: MAILBOXES, runs: RUNS },
    replan: { oneMailboxSeconds: round(replanOne), manySeconds: round(replanMany), ratio: round(ratio), target: TARGET_RATIO, met: ratio <= TARGET_RATIO },
    firstApply: {
      seconds: round(firstApply, 1),
      passwordsHashed: hashed,
      hashesPerSecond: round(hashed / firstApply, 1),
      oneCoreHashesPerSecond: round(oneCorePerSecond, 1),
      speedupOverOneCore: round(hashed / firstApply / oneCorePerSecond),
    },
    onePasswordChanged: { passwordsHashed: hashedAfterChange, met: hashedAfterChange === 1 },
  };
  writeFileSync(path.join(REPO, "bench/mailboxes-results.json"), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (!result.replan.met || !result.onePasswordChanged.met || hashed !== MAILBOXES) {
    process.stderr.write("bench: a mailbox target was missed (see bench/mailboxes-results.json)\n");
    process.exitCode = 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
