// Daemons from unpacked Debian packages (.deps/<name>, see scripts/test-deps.mjs)
// run in a private mount namespace where /usr is the real /usr with the
// package's usr/ laid over it, so their compiled-in paths (/usr/lib/dovecot,
// /usr/libexec/opensmtpd, /usr/share/rspamd, /usr/bin/doveconf) exist without
// installing anything. /etc, /var and /run can be made writable overlays
// too: what the daemon writes there lands in <dir>/upper/<d> and vanishes
// with the temp dir. A holder process (sleep) keeps the namespace alive
// between daemon restarts, so tools like smtpctl see the same files; the
// namespace ends when its last process does.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { daemonLifecycle, type DaemonLifecycle } from "./daemon.ts";
import { poll, waitFor } from "./wait.ts";

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A user (and its group) a daemon's processes run as. */
export interface RunAs {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

function passwdEntry(file: string, field: 0 | 2, value: string): string[] | undefined {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.split(":"))
    .find((f) => f[field] === value);
}

/**
 * The unprivileged user Dovecot and rspamd run as: the test's own user, or
 * nobody:nogroup when the tests run as root (nobody cannot write to /etc,
 * /usr or /var, which is what keeps a daemon from changing this machine).
 */
export function unprivileged(): RunAs {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const gid = process.getgid?.() ?? uid;
    const user = passwdEntry("/etc/passwd", 2, String(uid))?.[0] ?? String(uid);
    const group = passwdEntry("/etc/group", 2, String(gid))?.[0] ?? String(gid);
    return { user, group, uid, gid };
  }
  const nobody = passwdEntry("/etc/passwd", 0, "nobody");
  if (!nobody) throw new Error("no user nobody on this machine");
  const gid = Number(nobody[3]);
  return { user: "nobody", group: passwdEntry("/etc/group", 2, String(gid))?.[0] ?? "nogroup", uid: Number(nobody[2]), gid };
}

/** Numeric ids used by no user and no group of this machine (for users that exist only inside a namespace). */
export function freeIds(n: number, from = 2500): number[] {
  const used = new Set<string>();
  for (const f of ["/etc/passwd", "/etc/group"]) {
    for (const l of readFileSync(f, "utf8").split("\n")) used.add(l.split(":")[2] ?? "");
  }
  const out: number[] = [];
  for (let id = from; out.length < n; id++) if (!used.has(String(id))) out.push(id);
  return out;
}

const asUser = (who?: RunAs) =>
  who && who.uid !== 0 ? ["--reuid", String(who.uid), "--regid", String(who.gid), "--clear-groups"] : [];

const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", HOME: "/" };

export type Writable = "etc" | "usr" | "var" | "run";

export interface NamespaceOptions {
  /** Unpacked package trees (e.g. .deps/dovecot) whose usr/ is laid over /usr; the first is on top. */
  packages: string[];
  /** Directories made writable overlays (copy-on-write into <dir>/upper/); the others are the real ones. */
  writable?: Writable[];
  /** Shell commands run as root inside once everything is mounted (e.g. adding users to the overlaid /etc/passwd). */
  setup?: string;
}

export interface ExecOptions {
  input?: string;
  runAs?: RunAs;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface MountNamespace {
  /** The holder process. */
  readonly pid: number;
  readonly dir: string;
  /** Runs a program inside and waits for it. */
  exec(cmd: string, args: string[], opts?: ExecOptions): Promise<ToolResult>;
  /**
   * Starts a long-running program inside with stdout and stderr appended to
   * `logFile`; it gets SIGTERM should this process die without stopping it.
   */
  spawn(cmd: string, args: string[], opts: { logFile: string; runAs?: RunAs; env?: Record<string, string> }): ChildProcess;
  /** Pids of the processes inside, the holder excepted. */
  processes(): number[];
  /** Waits until no process but the holder is left inside; SIGKILLs what is left after `ms`. */
  drain(ms?: number): Promise<void>;
  /** Ends every process inside, then the namespace. */
  close(): Promise<void>;
}

export function assertRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} needs root: it mounts overlays in a private mount namespace (unshare -m)`);
  }
}

export async function openNamespace(dir: string, opts: NamespaceOptions): Promise<MountNamespace> {
  assertRoot("a daemon of an unpacked package");
  // overlayfs options separate paths with ":" and ","; the script quotes them with '
  for (const p of [dir, ...opts.packages]) if (/[,:'\s]/.test(p)) throw new Error(`path unusable in overlay options: ${p}`);
  const writable = new Set(opts.writable ?? []);
  const mounts: string[] = [];
  const lower = [...opts.packages.map((p) => path.join(p, "usr")), "/usr"].join(":");
  for (const d of ["usr", "etc", "var", "run"] as const) {
    if (d !== "usr" && !writable.has(d)) continue;
    let o = d === "usr" ? `lowerdir=${lower}` : `lowerdir=/${d}`;
    if (writable.has(d)) {
      const upper = path.join(dir, "upper", d);
      const work = path.join(dir, "work", d);
      mkdirSync(upper, { recursive: true });
      mkdirSync(work, { recursive: true });
      o += `,upperdir=${upper},workdir=${work}`;
    }
    mounts.push(`mount -t overlay mf-${d} -o '${o}' /${d}`);
  }
  const script = ["set -e", ...mounts, opts.setup ?? "", "echo ready", "exec setpriv --pdeathsig KILL sleep infinity"].join("\n");
  const holder = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script], {
    env: ENV,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  holder.stderr!.on("data", (d) => (err += String(d)));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on("data", (d) => {
      out += String(d);
      if (out.includes("ready\n")) resolve();
    });
    holder.once("exit", (code) => reject(new Error(`mount namespace setup failed (exit ${code}): ${err}`)));
  });
  const pid = holder.pid!;
  const nsOf = (p: number | string) => {
    try {
      return readlinkSync(`/proc/${p}/ns/mnt`);
    } catch {
      return undefined;
    }
  };
  const ns = nsOf(pid);
  if (!ns) throw new Error("mount namespace holder vanished");
  const processes = () =>
    readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p) && Number(p) !== pid)
      .filter((p) => nsOf(p) === ns)
      .map(Number);
  const signalAll = (signal: NodeJS.Signals) => {
    for (const p of processes()) {
      try {
        process.kill(p, signal);
      } catch {
        // already gone
      }
    }
  };
  const empty = () => processes().length === 0;
  const drain = async (ms = 10_000) => {
    if (await poll(empty, ms, 50)) return;
    // what is left (or forked since) gets SIGKILL until none is left
    await waitFor(`the processes left in mount namespace ${dir} to end after SIGKILL`, () => (signalAll("SIGKILL"), empty()), 60_000, 50);
  };
  const enter = (cmd: string, args: string[], runAs?: RunAs, pdeathsig?: boolean) => [
    "-t",
    String(pid),
    "-m",
    "--",
    ...(pdeathsig || runAs ? ["setpriv", ...(pdeathsig ? ["--pdeathsig", "TERM"] : []), ...asUser(runAs)] : []),
    cmd,
    ...args,
  ];
  return {
    pid,
    dir,
    async exec(cmd, args, o = {}) {
      const r = await execa("nsenter", enter(cmd, args, o.runAs), {
        input: o.input,
        stdin: o.input === undefined ? "ignore" : undefined,
        env: { ...ENV, ...o.env },
        extendEnv: false,
        reject: false,
        timeout: o.timeoutMs ?? 60_000,
      });
      return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    spawn(cmd, args, o) {
      const fd = openSync(o.logFile, "a");
      try {
        return spawn("nsenter", enter(cmd, args, o.runAs, true), { env: { ...ENV, ...o.env }, stdio: ["ignore", fd, fd] });
      } finally {
        closeSync(fd);
      }
    },
    processes,
    drain,
    async close() {
      signalAll("SIGTERM");
      await drain(5000);
      if (holder.exitCode === null && holder.signalCode === null) {
        const exited = new Promise((r) => holder.once("exit", r));
        holder.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Opens a namespace for a daemon whose files are in `dir` (at `dir`/ns); when that fails, removes `dir` and rethrows. */
export async function openDaemonNamespace(dir: string, opts: NamespaceOptions): Promise<MountNamespace> {
  try {
    return await openNamespace(path.join(dir, "ns"), opts);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Gives up on a daemon before its first start: ends its namespace, removes `dir`, throws `msg`. */
export async function abandon(ns: MountNamespace, dir: string, msg: string): Promise<never> {
  await ns.close();
  rmSync(dir, { recursive: true, force: true });
  throw new Error(msg);
}

/**
 * The lifecycle (daemon.ts) of a daemon in `ns`, one process at a time:
 * `launch` spawns it, `ready` waits until it answers (untilReady). A stop
 * waits for every process it left inside too; close() ends the namespace and
 * removes `dir`.
 */
export function namespaceDaemon(ns: MountNamespace, dir: string, launch: () => ChildProcess, ready: (child: ChildProcess) => Promise<unknown>): DaemonLifecycle {
  return daemonLifecycle({
    launch,
    ready,
    afterStop: () => ns.drain(15_000),
    async cleanup() {
      await ns.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
