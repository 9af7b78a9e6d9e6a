// The lifecycle of a daemon a test runs, written once: start a process, wait
// (bounded) until it listens or its pid file appears, failing at once when it
// exits instead; reload it with a signal; stop it by its pid (SIGTERM, then
// SIGKILL), waiting until it is gone. Dovecot, OpenSMTPD and rspamd run in a
// mount namespace (namespace.ts: namespaceDaemon), sshd and smtp-sink as
// plain children; all of them start, wait and stop through here.
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { waitFor } from "./wait.ts";

/** Whether a child has neither exited nor been ended by a signal. */
export const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/**
 * Whether something accepts a TCP connection on `port` (default host
 * 127.0.0.1) within 2 s; with `greeting`, whether the first bytes it sends
 * match it (`say` is then written back, e.g. an SMTP server's QUIT).
 */
export function listens(port: number, opts: { host?: string; greeting?: RegExp; say?: string } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, opts.host ?? "127.0.0.1");
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once("error", () => done(false));
    const greeting = opts.greeting;
    if (!greeting) s.once("connect", () => done(true));
    else {
      s.once("data", (d) => {
        if (opts.say) s.write(opts.say);
        done(greeting.test(String(d)));
      });
    }
  });
}

/** The pid in a pid file, or undefined while there is none. */
export function pidFile(file: string): number | undefined {
  const pid = existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : NaN;
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export interface ReadyCheck {
  /** Names the daemon when it exits, e.g. "Dovecot". */
  name: string;
  /** What is waited for, e.g. "Dovecot listening on 143, 110". */
  what: string;
  ready(): boolean | Promise<boolean>;
  timeoutMs: number;
  /** Its log, for the error when it exits. */
  log?(): string;
}

/**
 * Polls `c.ready` until it holds for the daemon `child` just started (at most
 * `c.timeoutMs`); throws at once when the child exits meanwhile, with its log.
 * Returns the milliseconds it took.
 */
export function untilReady(child: ChildProcess, c: ReadyCheck): Promise<number> {
  return waitFor(
    c.what,
    async () => {
      if (!alive(child)) throw new Error(`${c.name} exited:\n${c.log?.() ?? ""}`);
      return c.ready();
    },
    c.timeoutMs,
  );
}

/** Ends a child by its pid: SIGTERM, SIGKILL after `ms`; resolves once it exited. */
export async function stopProcess(child: ChildProcess | undefined, ms = 15_000): Promise<void> {
  if (!child || !alive(child)) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(timer);
}

/** What every daemon of the tests does the same way: one process at a time. */
export interface DaemonLifecycle {
  start(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL) and waits for what it left; its files stay. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Sends its process `signal` (default SIGHUP: re-read the config); nothing while it is stopped. */
  reload(signal?: NodeJS.Signals): void;
  running(): boolean;
  /** Stops it, then removes what it had (its namespace, its directory). */
  close(): Promise<void>;
  /** The process while it runs. */
  child(): ChildProcess | undefined;
}

export interface DaemonSpec {
  /** Spawns it. */
  launch(): ChildProcess;
  /** Waits until it answers (untilReady), throwing when it exited. The process is known before this runs, so a start that times out is still stopped by close(). */
  ready(child: ChildProcess): Promise<unknown>;
  /** After its process ended: waits for what else it left running (a namespace's other processes). */
  afterStop?(): Promise<void>;
  /** After the last stop: removes what it had. */
  cleanup?(): Promise<void> | void;
}

export function daemonLifecycle(spec: DaemonSpec): DaemonLifecycle {
  let child: ChildProcess | undefined;
  const running = () => child !== undefined && alive(child);
  const stop = async () => {
    await stopProcess(child);
    await spec.afterStop?.();
    child = undefined;
  };
  const start = async () => {
    if (running()) return;
    child = spec.launch();
    await spec.ready(child);
  };
  return {
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    reload(signal = "SIGHUP") {
      if (running()) child!.kill(signal);
    },
    running,
    async close() {
      await stop();
      await spec.cleanup?.();
    },
    child: () => child,
  };
}

/** Starts a new daemon instance; when that fails, closes it and rethrows, with its log when given. */
export async function firstStart<T extends Pick<DaemonLifecycle, "start" | "close">>(instance: T, log?: () => string): Promise<T> {
  try {
    await instance.start();
  } catch (e) {
    const text = log?.();
    await instance.close();
    throw text === undefined ? e : new Error(`${(e as Error).message}\n${text}`);
  }
  return instance;
}
