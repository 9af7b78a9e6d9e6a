// The machine's own nullmailer (Debian's package, installed by test-deps), for
// tests that let mailfleet configure it: how to start and stop it the way the
// machine does, which nullmailer-send runs, and its configuration and queue
// saved before and put back afterwards. Callers hold the machine lock.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { mailfleet, type CliResult } from "./cli.ts";
import { sleep, waitFor } from "./wait.ts";

export const CONF = "/etc/nullmailer";
export const MAILNAME = "/etc/mailname";
export const SPOOL = "/var/spool/nullmailer";
const SEND = "/usr/sbin/nullmailer-send";

const systemd = () => existsSync("/run/systemd/system");

/**
 * Starts or stops nullmailer the way the machine does it, output not attached
 * to us (the daemon would keep it). A stop waits until the service manager
 * no longer sees the daemon: an init script's stop does not wait for it.
 */
export async function nullmailerService(verb: "start" | "stop"): Promise<void> {
  const ctl = (v: string) => {
    const [cmd, args] = systemd() ? ["systemctl", [v, "nullmailer"]] : ["service", ["nullmailer", v]];
    return spawnSync(cmd, args, { stdio: "ignore", timeout: 30_000 }).status;
  };
  const code = ctl(verb);
  if (code !== 0) throw new Error(`nullmailer ${verb} exited ${code}`);
  if (verb === "stop") await waitFor("nullmailer to stop", () => ctl(systemd() ? "is-active" : "status") !== 0, 30_000, 200);
}

/** Pids of running (not zombie) nullmailer-send processes. */
export function nullmailerSendPids(): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/exe`) !== SEND) continue;
      const state = readFileSync(`/proc/${e}/stat`, "utf8").replace(/^.*\) /, "")[0];
      if (state !== "Z") pids.push(Number(e));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return pids;
}

interface Saved {
  path: string;
  content: Buffer | null;
  mode: number;
  uid: number;
  gid: number;
}

function save(p: string): Saved {
  if (!existsSync(p)) return { path: p, content: null, mode: 0, uid: 0, gid: 0 };
  const st = statSync(p);
  return { path: p, content: st.isFile() ? readFileSync(p) : null, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function restore(s: Saved): void {
  if (s.content === null && !existsSync(s.path)) return;
  if (s.content !== null) writeFileSync(s.path, s.content);
  chmodSync(s.path, s.mode);
  chownSync(s.path, s.uid, s.gid);
}

export interface MachineNullmailer {
  /** Queue files there before the test. */
  queueBefore: string[];
  /** nullmailer-send was running before the test (it is stopped now). */
  wasRunning: boolean;
  /** Puts configuration, queue and service state back as they were. */
  restore(): Promise<void>;
}

/** Saves nullmailer's configuration, spool and /etc/mailname, and stops it, so an apply has to start it. */
export async function takeMachineNullmailer(): Promise<MachineNullmailer> {
  const confFiles = readdirSync(CONF);
  const etcFiles = readdirSync("/etc");
  const saved = [...confFiles.map((f) => save(path.join(CONF, f))), save(MAILNAME), save(CONF)];
  saved.push(...["queue", "tmp", "failed", ""].map((d) => save(path.join(SPOOL, d))), save(`${SPOOL}/trigger`));
  const queueBefore = readdirSync(`${SPOOL}/queue`);
  const wasRunning = nullmailerSendPids().length > 0;
  if (wasRunning) await nullmailerService("stop");
  return {
    queueBefore,
    wasRunning,
    async restore() {
      if (nullmailerSendPids().length > 0) await nullmailerService("stop");
      for (const f of readdirSync(CONF)) if (!confFiles.includes(f)) rmSync(path.join(CONF, f), { force: true });
      for (const f of readdirSync("/etc")) if (f.startsWith("mailname.mailfleet-bak.") && !etcFiles.includes(f)) rmSync(path.join("/etc", f));
      for (const s of saved) restore(s);
      for (const f of readdirSync(`${SPOOL}/queue`)) if (!queueBefore.includes(f)) rmSync(path.join(SPOOL, "queue", f), { force: true });
      if (wasRunning) await nullmailerService("start");
    },
  };
}

/**
 * `mailfleet apply` on this machine. Tests of other branches may run an apply
 * on this host at the same moment (the host lock, /var/run/mailfleet.lock, is
 * per machine): a "locked" refusal is retried for up to a minute, as an admin would.
 */
export async function applyHere(inventory: string, extra: string[] = []): Promise<CliResult> {
  const until = Date.now() + 60_000;
  for (;;) {
    const r = await mailfleet(["apply", "-i", inventory, "--yes", ...extra]);
    if (r.code === 0 || !/locked: another apply is running/.test(r.stderr) || Date.now() > until) return r;
    await sleep(500);
  }
}
