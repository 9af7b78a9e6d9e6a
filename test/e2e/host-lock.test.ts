// The host lock (src/shell/prelude.ts mf_lock) under dash, ksh93 and busybox
// sh: a dead holder, an unreaped (zombie) holder, a pid reused by another
// process and the lock directory an older mailfleet left never block the next
// apply; and many applies started at once on a host with such a stale lock
// admit exactly one holder at a time. Each holder proves it is alone: it
// enters the critical section with mkdir (which fails if someone is inside)
// and logs enter/leave; the log must alternate. A control run without the
// lock shows the check does catch overlaps.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { debian } from "../../src/platforms/debian.ts";
import { applyPrelude, prelude } from "../../src/shell/prelude.ts";
import { checkShells, SHELLS, type Shell } from "../support/shells.ts";
import { waitFor } from "../support/wait.ts";

const cleanup: (() => void)[] = [];
afterAll(() => cleanup.reverse().forEach((f) => f()));

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-lock-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A script as an apply starts: prelude, apply helpers, mf_lock; then `body`. */
function lockScript(root: string, body: string, before = ""): string {
  return `${prelude(root, debian).sh}\n${applyPrelude(root, debian).sh}\n${before}\nmf_lock\n${body}\n`;
}

const CRITICAL = (log: string) => `
if ! mkdir ${JSON.stringify(`${log}.inside`)} 2>/dev/null; then echo "overlap $$" >> ${JSON.stringify(log)}; fi
echo "enter $$" >> ${JSON.stringify(log)}
sleep 0.03
echo "leave $$" >> ${JSON.stringify(log)}
rmdir ${JSON.stringify(`${log}.inside`)} 2>/dev/null
`;

interface Run {
  code: number | null;
  stderr: string;
}

function run(shell: Shell, script: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdin.end(script);
  });
}

function runSync(shell: Shell, script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { input: script, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A process that holds an entry of its own pid in `runDir` (as an apply does) until killed; its pid. */
function startHolder(runDir: string): Promise<{ pid: number; kill(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", 'exec 9>>"$1/mailfleet.lock.$$.1"; echo "held by a test" >&9; echo $$; exec sleep 600', "holder", runDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    child.stdout.once("data", (d: Buffer) =>
      resolve({
        pid: Number(d.toString().trim()),
        kill: async () => {
          child.kill("SIGKILL");
          await exited;
        },
      }),
    );
    child.on("error", reject);
  });
}

/**
 * A holder killed while its parent never reaps it: a zombie whose pid still
 * answers kill -0. Returns the zombie's pid and a function that ends its parent.
 */
async function startZombieHolder(runDir: string): Promise<{ pid: number; parent: number; end(): void }> {
  const pidFile = path.join(runDir, "..", `zombie-${Date.now()}-${Math.random()}`);
  const parent = spawn(
    "/bin/sh",
    ["-c", 'sh -c \'exec 9>>"$1/mailfleet.lock.$$.1"; echo "held by a test" >&9; echo $$ > "$2"; exec sleep 600\' holder "$1" "$2" & exec sleep 600', "parent", runDir, pidFile],
    { stdio: "ignore", detached: true },
  );
  parent.unref();
  let pid = 0;
  await waitFor("the holder's pid", () => (pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0) > 0, 30_000, 10);
  rmSync(pidFile);
  process.kill(pid, "SIGKILL");
  await waitFor(`holder ${pid} to be a zombie`, () => /\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")), 30_000, 10);
  const end = () => {
    try {
      process.kill(parent.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  };
  cleanup.push(end);
  return { pid, parent: parent.pid!, end };
}

function entries(runDir: string): string[] {
  return existsSync(runDir) ? readdirSync(runDir).filter((n) => n.startsWith("mailfleet.lock")) : [];
}

describe("the host lock: a stale holder never blocks the next apply", () => {
  checkShells();

  it.each(SHELLS)("$name: liveness is judged by the holder's open file (/proc/<pid>/fd), not by kill -0", (shell) => {
    const root = tempDir();
    const r = runSync(shell, lockScript(root, 'echo "live=$MF_LIVE"; ls "$MF_LOCK_DIR"'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^live=fd$/m);
    expect(r.stdout).toMatch(/^mailfleet\.lock\.\d+\.\d+$/m);
    expect(entries(path.join(root, "var/run"))).toEqual([]);
  });

  it.each(SHELLS)("$name: a live holder refuses with its pid; killed (-9), dead, zombie or reused, its entry is taken over and removed", async (shell) => {
    const root = tempDir();
    const runDir = path.join(root, "var/run");
    mkdirSync(runDir, { recursive: true });
    const ok = lockScript(root, "echo in");

    const holder = await startHolder(runDir);
    const held = runSync(shell, ok);
    expect(held.code).toBe(75);
    expect(held.stderr).toContain(`mailfleet: another apply is running on this host (pid ${holder.pid}, lock ${runDir}/mailfleet.lock.${holder.pid}.*)`);
    await holder.kill();
    const afterKill = runSync(shell, ok);
    expect(afterKill.code, afterKill.stderr).toBe(0);
    expect(entries(runDir)).toEqual([]);

    // a zombie: killed, never reaped by its parent; kill -0 still succeeds on it
    const zombie = await startZombieHolder(runDir);
    expect(spawnSync("/bin/sh", ["-c", `kill -0 ${zombie.pid}`]).status).toBe(0);
    const afterZombie = runSync(shell, ok);
    expect(afterZombie.code, afterZombie.stderr).toBe(0);
    expect(entries(runDir)).toEqual([]);

    // a reused pid: the entry names a live process that does not hold it (the zombie's parent)
    writeFileSync(path.join(runDir, `mailfleet.lock.${zombie.parent}.1`), "held by pid ... since ...\n");
    const afterReuse = runSync(shell, ok);
    expect(afterReuse.code, afterReuse.stderr).toBe(0);
    expect(entries(runDir)).toEqual([]);
    zombie.end();

    // the lock directory of mailfleet 0.1.0, left by an apply killed before it wrote its pid
    mkdirSync(path.join(runDir, "mailfleet.lock"));
    writeFileSync(path.join(runDir, "mailfleet.lock/pid"), "");
    const afterLegacy = runSync(shell, ok);
    expect(afterLegacy.code, afterLegacy.stderr).toBe(0);
    expect(entries(runDir)).toEqual([]);
  });
});

type Stale = "dead" | "zombie" | "reused" | "legacy";

/** Starts `n` applies at once on a host whose lock is stale in the way `stale` says; what each did and the critical section's log. */
async function trial(shell: Shell, root: string, n: number, stale: Stale, before = "") {
  const runDir = path.join(root, "var/run");
  mkdirSync(runDir, { recursive: true });
  let zombie: Awaited<ReturnType<typeof startZombieHolder>> | undefined;
  if (stale === "dead") {
    const h = await startHolder(runDir);
    await h.kill();
  } else if (stale === "zombie") {
    zombie = await startZombieHolder(runDir);
  } else if (stale === "reused") {
    writeFileSync(path.join(runDir, `mailfleet.lock.${process.pid}.1`), "held by pid ... since ...\n");
  } else {
    mkdirSync(path.join(runDir, "mailfleet.lock"), { recursive: true });
    writeFileSync(path.join(runDir, "mailfleet.lock/pid"), "999999999\n");
  }
  const log = path.join(root, "log");
  rmSync(log, { force: true });
  const script = lockScript(root, CRITICAL(log), before);
  const runs = await Promise.all(Array.from({ length: n }, () => run(shell, script)));
  zombie?.end();
  const lines = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
  return { runs, lines, left: entries(runDir) };
}

/** Checks the log alternates enter/leave of the same pid; returns the number of holders, or throws on an overlap. */
function holders(lines: string[]): { holders: number; overlaps: number } {
  let inside: string | null = null;
  let count = 0;
  let overlaps = 0;
  for (const l of lines) {
    const [what, pid] = l.split(" ");
    if (what === "overlap") overlaps++;
    else if (what === "enter") {
      if (inside !== null) overlaps++;
      inside = pid!;
      count++;
    } else if (what === "leave") {
      if (inside !== pid) overlaps++;
      inside = null;
    }
  }
  return { holders: count, overlaps };
}

describe("the host lock admits one holder at a time", () => {
  const TRIALS = 100;
  const CONTENDERS = 5;
  const kinds: Stale[] = ["dead", "zombie", "reused", "legacy"];

  it.each(SHELLS)(`$name: ${TRIALS} trials of ${CONTENDERS} applies started at once on a stale lock: never two inside, nothing left`, async (shell) => {
    const root = tempDir();
    const started = Date.now();
    let trialsWithHolder = 0;
    let held = 0;
    let refused = 0;
    for (let t = 0; t < TRIALS; t++) {
      const r = await trial(shell, root, CONTENDERS, kinds[t % kinds.length]!);
      const h = holders(r.lines);
      expect(h.overlaps, `trial ${t}: ${r.lines.join(", ")}`).toBe(0);
      for (const x of r.runs) {
        expect([0, 75], x.stderr).toContain(x.code);
        if (x.code === 75) expect(x.stderr).toMatch(/another apply is running on this host \(pid \d+/);
      }
      expect(h.holders).toBe(r.runs.filter((x) => x.code === 0).length);
      expect(r.left, `trial ${t}`).toEqual([]);
      if (h.holders > 0) trialsWithHolder++;
      held += h.holders;
      refused += r.runs.filter((x) => x.code === 75).length;
    }
    // applies started together: the one with the smallest number goes first, the others give way or run after it
    expect(trialsWithHolder).toBe(TRIALS);
    console.info(`${shell.name}: ${TRIALS} trials x ${CONTENDERS} applies: ${held} held the lock in turn, ${refused} refused, 0 overlaps, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);

  it("without /proc liveness (kill -0, as where there is none) it still admits one holder at a time", async () => {
    const root = tempDir();
    const shell = SHELLS[0]!;
    for (let t = 0; t < 30; t++) {
      const r = await trial(shell, root, CONTENDERS, "dead", "MF_LIVE=kill");
      expect(holders(r.lines).overlaps, r.lines.join(", ")).toBe(0);
      expect(holders(r.lines).holders).toBeGreaterThan(0);
      expect(r.left).toEqual([]);
    }
  }, 120_000);

  it("control: without the lock the same check sees applies overlap", async () => {
    const root = tempDir();
    const r = await trial(SHELLS[0]!, root, CONTENDERS, "dead", "mf_lock() { :; }");
    expect(holders(r.lines).overlaps).toBeGreaterThan(0);
  });
});
