// kill -9 at random points of applies of four sandbox zones (dash, ksh93,
// busybox sh), 1,000 queued messages in all. Every round changes what the
// zones must be (the persistent spool moves between two directories, so all
// 1,000 messages move; adminaddr and the relay line change) and runs each
// zone's apply script killed (SIGKILL to its process group) after a random
// delay within the time a whole apply takes. After every kill: no file torn
// (each managed file holds its old or its new content, whole), no message
// lost or altered (each of the 1,000 is somewhere, byte for byte). Then the
// next apply must converge in one run (no "locked", nothing left to change),
// plan must find nothing to do, and nothing may be left behind: no lock
// entry, no directory set aside, no partial copy, no temporary file, every
// message exactly once, in the current persistent spool.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyHost, planHost, prepareHost, type HostTarget } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { applyScript } from "../../src/engine/scripts.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import type { FileResource } from "../../src/resources/types.ts";
import { runHere } from "../../src/transports/local.ts";
import type { RunResult, Transport } from "../../src/transports/types.ts";
import { mailfleet } from "../support/cli.ts";
import { checkShells, SHELLS, type Shell } from "../support/shells.ts";
import { seededRandom } from "../support/random.ts";

const ZONES = 4;
const MESSAGES_PER_ZONE = 250;
const KILLS = 100;
const MAX_ROUNDS = 80;
const SPOOL = "var/spool/nullmailer";
const SUBS = ["queue", "tmp", "failed"];
const PERSISTENT = ["/home/spool-a", "/home/spool-b"];

const cleanup: string[] = [];
afterAll(() => cleanup.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs scripts with one given shell (the zones of one run use different shells at once). */
class ShellTransport implements Transport {
  readonly description: string;
  constructor(
    readonly root: string,
    private readonly shell: Shell,
  ) {
    this.description = `${shell.name}:${path.basename(root)}`;
  }
  run(script: string): Promise<RunResult> {
    return runHere([...this.shell.argv, "-s"], script);
  }
}

/** A failing campaign can be run again as it was (MAILFLEET_KILL_SEED). */
const random = seededRandom;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function seedMessages(root: string, zone: number): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const d of SUBS) mkdirSync(path.join(root, SPOOL, d), { recursive: true });
  for (let i = 0; i < MESSAGES_PER_ZONE; i++) {
    const name = `${1700000000 + i}.${zone * 10000 + i}`;
    const sub = i % 50 === 0 ? "failed" : "queue";
    const data = Buffer.concat([Buffer.from(`root@z${zone}\nadmin@example.org\n\nSubject: message ${i} of z${zone}\r\n\r\n${"x".repeat(i % 113)}\n`), Buffer.from([0xe9, 0x0a])]);
    writeFileSync(path.join(root, SPOOL, sub, name), data);
    hashes.set(`${sub}/${name}`, sha(data));
  }
  return hashes;
}

function inventoryText(round: number, roots: string[]): string {
  const hosts = roots.map((r, i) => `      z${i + 1}: { transport: { type: local, root: ${r} } }`).join("\n");
  return `defaults:
  domain: example.org
  adminaddr: admin-${round}@example.org
  relay:
    host: 10.200.0.7
    port: ${round % 2 ? 587 : 25}
    auth: { user: relay-user, password: { file: secrets/relay-password } }
groups:
  zones:
    platform: smartos
    roles: [nullmailer]
    nullmailer:
      persistentSpool: ${PERSISTENT[round % 2]}
    hosts:
${hosts}
`;
}

/** Every queued file of a zone wherever it is (spool, set aside, either persistent spool): "sub/name" -> hashes seen. */
function messagesOf(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const dirs = SUBS.flatMap((sub) => [
    { sub, dir: path.join(root, SPOOL, sub) },
    { sub, dir: path.join(root, SPOOL, `${sub}.mailfleet-old`) },
    ...PERSISTENT.map((p) => ({ sub, dir: path.join(root, p, sub) })),
  ]);
  for (const { sub, dir } of dirs) {
    if (!existsSync(dir) || lstatSync(dir).isSymbolicLink()) continue;
    for (const name of readdirSync(dir)) {
      if (name.startsWith(".")) continue;
      const key = `${sub}/${name}`;
      out.set(key, [...(out.get(key) ?? []), sha(readFileSync(path.join(dir, name)))]);
    }
  }
  return out;
}

/** Paths mailfleet leaves only while it runs or when interrupted. */
function litter(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (/\.mailfleet-old$|^\.mailfleet-part\.|^\.mailfleet\.\d+\.|^mailfleet\.lock/.test(name)) found.push(path.relative(root, p));
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return found;
}

interface Kill {
  zone: string;
  ms: number;
  /** Still running when killed. */
  effective: boolean;
  /** The last step it had started ("lock/check" before the first). */
  at: string;
}

function killedAfter(shell: Shell, script: string, ms: number): Promise<{ effective: boolean; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { stdio: ["pipe", "pipe", "ignore"], detached: true });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL"); // the shell and what it runs (ln, cp, cmp, ...)
      } catch {
        /* done already */
      }
    }, ms);
    child.on("close", (_code, signal) => {
      clearTimeout(timer);
      resolve({ effective: signal === "SIGKILL", stdout });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(script);
  });
}

describe("kill -9 during applies", () => {
  checkShells();

  it(`${KILLS} kills at random points of applies of ${ZONES} zones with ${ZONES * MESSAGES_PER_ZONE} queued messages: nothing torn or lost, every next apply converges at once, nothing left`, async () => {
    const seed = Number(process.env.MAILFLEET_KILL_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-kill-"));
    cleanup.push(dir);
    mkdirSync(path.join(dir, "secrets"));
    writeFileSync(path.join(dir, "secrets/relay-password"), "kill-campaign-relay-secret\n", { mode: 0o600 });
    const roots = Array.from({ length: ZONES }, (_, i) => path.join(dir, `z${i + 1}`));
    const shells = roots.map((_, i) => SHELLS[i % SHELLS.length]!);
    const expected = roots.map((r, i) => seedMessages(r, i + 1));
    const inventory = path.join(dir, "inventory.yaml");
    const targetsFor = (round: number): HostTarget[] => {
      writeFileSync(inventory, inventoryText(round, roots));
      const inv = parseInventory(readFileSync(inventory, "utf8"), inventory);
      const secrets = revealingResolver(dir);
      return inv.hosts.map((h, i) => prepareHost(h, new ShellTransport(roots[i]!, shells[i]!), secrets, inv.hosts));
    };
    const files = (t: HostTarget) => new Map(t.resources.filter((r): r is FileResource => r.kind === "file" && r.state !== "absent").map((r) => [r.path, r.content]));

    const started = Date.now();
    const kills: Kill[] = [];
    const duration = roots.map(() => 0);
    const converge = async (targets: HostTarget[], round: number) => {
      await Promise.all(
        targets.map(async (t, i) => {
          const t0 = Date.now();
          const result = await applyHost(t, await planHost(t)); // throws on "locked" or a failed step
          duration[i] = Date.now() - t0;
          expect(result.remaining, `round ${round} ${t.host.name}: converged in one run`).toEqual([]);
          expect((await planHost(t)).changes, `round ${round} ${t.host.name}: plan after it`).toEqual([]);
        }),
      );
    };
    const checkSettled = (targets: HostTarget[], round: number) => {
      targets.forEach((t, i) => {
        const root = roots[i]!;
        expect(litter(root), `round ${round} ${t.host.name}`).toEqual([]);
        const persistent = PERSISTENT[round % 2]!;
        for (const sub of SUBS) expect(readlinkSync(path.join(root, SPOOL, sub))).toBe(`${persistent}/${sub}`);
        const seen = messagesOf(root);
        expect(seen.size).toBe(MESSAGES_PER_ZONE);
        for (const [key, hash] of expected[i]!) {
          expect(seen.get(key), `${t.host.name} ${key} exactly once`).toEqual([hash]);
          expect(existsSync(path.join(root, persistent, key))).toBe(true);
        }
      });
    };

    // round 0: the first apply, whole (how long one takes sets the range of the kills)
    let targets = targetsFor(0);
    await converge(targets, 0);
    checkSettled(targets, 0);
    let round = 1;
    for (; round <= MAX_ROUNDS && kills.filter((k) => k.effective).length < KILLS; round++) {
      const before = targets.map(files);
      targets = targetsFor(round);
      const after = targets.map(files);
      const plans = await Promise.all(targets.map((t) => planHost(t)));
      await Promise.all(
        targets.map(async (t, i) => {
          const ms = Math.round(rand() * Math.max(50, duration[i]!) * 1.1);
          const script = applyScript(t.resources, plans[i]!.changes, t.ctx, plans[i]!.facts);
          const r = await killedAfter(shells[i]!, script, ms);
          const steps = r.stdout.split("\n").filter((l) => l.startsWith("@@step "));
          kills.push({ zone: t.host.name, ms, effective: r.effective, at: steps.at(-1)?.slice(7) ?? "lock/check" });
          // nothing torn: a managed file is whole, old or new
          for (const [p, content] of after[i]!) {
            const abs = path.join(roots[i]!, p);
            if (!existsSync(abs)) continue;
            const now = readFileSync(abs, "utf8");
            expect([before[i]!.get(p), content], `round ${round} ${t.host.name}: ${p} after a kill at ${ms} ms`).toContain(now);
          }
          // nothing lost: every message somewhere, byte for byte (a copy in two places is allowed until the move ends)
          const seen = messagesOf(roots[i]!);
          for (const [key, hash] of expected[i]!) {
            expect(seen.get(key)?.every((h) => h === hash), `round ${round} ${t.host.name}: ${key} after a kill at ${ms} ms`).toBe(true);
          }
          expect(seen.size).toBe(MESSAGES_PER_ZONE);
        }),
      );
      await converge(targets, round);
      checkSettled(targets, round);
    }

    const effective = kills.filter((k) => k.effective);
    expect(effective.length).toBeGreaterThanOrEqual(KILLS);
    // the real CLI agrees: nothing to do on any zone
    const plan = await mailfleet(["plan", "-i", inventory, "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);

    const where = new Map<string, number>();
    for (const k of effective) where.set(k.at, (where.get(k.at) ?? 0) + 1);
    console.info(
      `kill campaign (seed ${seed}): ${effective.length} kills in ${round - 1} rounds (${kills.length - effective.length} more landed after the apply ended), ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s; killed in: ${[...where].map(([k, n]) => `${k} ${n}`).join(", ")}; ` +
        "0 torn files, 0 lost messages, every next apply converged in one run, no litter, plan exit 0",
    );
  }, 1_200_000);
});
