// Transport ssh: the system's OpenSSH, so ~/.ssh/config, the agent and jump
// hosts work as they do for the admin. The script travels on stdin to
// `/bin/sh -s` (never in argv); one multiplexed connection per host lets a plan
// and the apply after it share one handshake.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import pLimit, { type LimitFunction } from "p-limit";
import type { z } from "zod";
import type { sshTransport } from "../inventory/schema.ts";
import { PRIVILEGE_TOOLS, type PrivilegeTool } from "../inventory/privilege.ts";
import { runProcess } from "./process.ts";
import { TransportError, type RunResult, type Transport } from "./types.ts";

export type SshTarget = Omit<z.infer<typeof sshTransport>, "type" | "root">;

/** Seconds an idle master outlives mailfleet if it dies before closing it. */
const CONTROL_PERSIST = 120;
/** Sessions at once over one connection: below sshd's default MaxSessions (10). */
const SESSIONS_PER_CONNECTION = 8;

/** How a platform escalates a login that is not root (its Platform.become). */
export type Escalation = PrivilegeTool;

/** The escalation prefix for a remote command: none as root, else the platform's (sudo -n on Linux, pfexec on SmartOS). */
export function becomePrefix(t: Pick<SshTarget, "user" | "become">, platformDefault: Escalation): string[] {
  const become = t.become ?? (t.user && t.user !== "root" ? platformDefault : "none");
  return become === "none" ? [] : [...PRIVILEGE_TOOLS[become]];
}

/** user@address:port, as messages name the far side. */
export function destination(t: SshTarget): string {
  return `${t.user ? `${t.user}@` : ""}${t.address}${t.port ? `:${t.port}` : ""}`;
}

/** ssh's argv: the inventory's options first (for ssh the first value wins), then the ones the transport needs. */
export function sshArgv(t: SshTarget, socket: string, tail: string[], timeoutMs?: number): string[] {
  const a: string[] = [];
  for (const [k, v] of Object.entries(t.options ?? {})) a.push("-o", `${k}=${v}`);
  const check = t.hostKeyChecking ?? "strict";
  a.push("-o", "BatchMode=yes");
  a.push("-o", `StrictHostKeyChecking=${check === "strict" ? "yes" : check === "accept-new" ? "accept-new" : "no"}`);
  if (check === "off") a.push("-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR");
  a.push("-o", `ControlPath=${socket}`, "-o", "ControlMaster=auto", "-o", `ControlPersist=${CONTROL_PERSIST}`);
  a.push("-o", `ConnectTimeout=${timeoutMs ? Math.max(1, Math.ceil(timeoutMs / 1000)) : 20}`);
  a.push("-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3");
  if (t.port) a.push("-p", String(t.port));
  if (t.user) a.push("-l", t.user);
  if (t.identityFile) a.push("-i", t.identityFile, "-o", "IdentitiesOnly=yes");
  if (t.jump) a.push("-J", t.jump);
  return [...a, ...tail];
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}

/** A clear reason for a failure of ssh itself (exit 255), or null when the remote side failed. */
export function connectionFailure(stderr: string, t: SshTarget): string | null {
  const dest = destination(t);
  const keyName = t.port ? `[${t.address}]:${t.port}` : t.address;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(stderr)) {
    return `host key of ${dest} has CHANGED since it was recorded in known_hosts; refusing to connect (the connection may be intercepted). If the host was reinstalled, check its new key, then remove the old one (ssh-keygen -R '${keyName}')`;
  }
  if (/No \S+ host key is known for|Host key verification failed/.test(stderr)) {
    return `host key of ${dest} is unknown (not in known_hosts); check its fingerprint and add it (ssh-keyscan ${t.port ? `-p ${t.port} ` : ""}${t.address}), or set transport.hostKeyChecking: accept-new`;
  }
  const denied = stderr.match(/Permission denied \([^)]*\)/);
  if (denied) return `authentication failed for ${dest}: ${denied[0]}${t.identityFile ? ` with key ${t.identityFile}` : ""}`;
  if (/Connection refused|Connection timed out|No route to host|Could not resolve hostname|Network is unreachable|Name or service not known/.test(stderr)) {
    return `unreachable: ${lastLine(stderr).replace(/^ssh: /, "")}`;
  }
  if (/Connection closed by|Connection reset by|kex_exchange_identification/.test(stderr)) {
    return `connection to ${dest} closed by the far side: ${lastLine(stderr)}`;
  }
  return null;
}

/** One (multiplexed) connection to one machine, shared by every transport that reaches it. */
export class SshConnection {
  private established: Promise<void> | undefined;
  private failure: TransportError | undefined;
  private users = 0;
  private opened = false;
  private readonly sessions: LimitFunction = pLimit(SESSIONS_PER_CONNECTION);

  constructor(
    readonly target: SshTarget,
    readonly socket: string,
  ) {}

  acquire(): void {
    this.users++;
  }

  /** Runs `remoteCommand` there with `input` on its stdin. The first run opens the master; runs that arrive meanwhile wait for it. */
  async run(remoteCommand: string, input: string, timeoutMs?: number): Promise<RunResult> {
    if (this.failure) throw this.failure;
    if (!this.established) {
      let opened!: () => void;
      this.established = new Promise((r) => (opened = r));
      try {
        return await this.sessions(() => this.exec(remoteCommand, input, timeoutMs));
      } finally {
        opened();
      }
    }
    await this.established;
    if (this.failure) throw this.failure;
    return this.sessions(() => this.exec(remoteCommand, input, timeoutMs));
  }

  private async exec(remoteCommand: string, input: string, timeoutMs?: number): Promise<RunResult> {
    this.opened = true;
    const r = await runProcess("ssh", sshArgv(this.target, this.socket, ["-T", "--", this.target.address, remoteCommand], timeoutMs), input, {
      timeoutMs,
    });
    const stdout = r.stdout;
    // ssh ends its own messages with CR LF.
    const stderr = r.stderr.replace(/[ \t]*\r\n/g, "\n");
    if (r.timedOut) throw new TransportError(`timed out after ${Math.round((timeoutMs ?? 0) / 1000)} s on ${destination(this.target)} (--timeout)`);
    if (r.code === 255) {
      const reason = connectionFailure(stderr, this.target);
      if (reason) {
        this.failure = new TransportError(reason, stderr.trim().split("\n").slice(-4).join("\n"));
        throw this.failure;
      }
    }
    if (r.code === 1 && /^sudo: (a password is required|a terminal is required)/m.test(stderr)) {
      throw new TransportError(
        `sudo on ${destination(this.target)} asks for a password; mailfleet runs 'sudo -n /bin/sh -s': allow it without a password (NOPASSWD) or connect as root`,
      );
    }
    return { stdout, stderr, code: r.code };
  }

  /** Drops one user; the last one closes the master (ssh -O exit). */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) await this.close();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    const asked = await terminateMaster(this.socket);
    if (asked === "unanswered") {
      await execa("ssh", ["-o", `ControlPath=${this.socket}`, "-O", "exit", "--", this.target.address], { reject: false, timeout: 10_000 });
    }
  }
}

const MUX_MSG_HELLO = 0x00000001;
const MUX_C_TERMINATE = 0x10000005;
const MUX_S_OK = 0x80000001;

function muxPacket(...words: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * words.length);
  b.writeUInt32BE(4 * words.length, 0);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, 4 + 4 * i));
  return b;
}

/**
 * `ssh -O exit` without starting ssh: the terminate request of OpenSSH's
 * multiplexing protocol (PROTOCOL.mux, version 4) sent to the master's socket.
 * A fleet run closes hundreds of masters, and every process spawned blocks
 * Node's event loop until it has exec'd. "none" when no master listens there.
 */
export function terminateMaster(socket: string, timeoutMs = 5000): Promise<"terminated" | "none" | "unanswered"> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    let buf = Buffer.alloc(0);
    let settled = false;
    let sent = false;
    const done = (r: "terminated" | "none" | "unanswered") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done("unanswered"), timeoutMs);
    conn.on("error", (e: NodeJS.ErrnoException) => done(e.code === "ENOENT" || e.code === "ECONNREFUSED" ? "none" : "unanswered"));
    // The master often exits before its OK reaches the client (so does ssh -O exit, which does not wait for it).
    conn.on("close", () => done(sent ? "terminated" : "unanswered"));
    conn.on("connect", () => conn.write(Buffer.concat([muxPacket(MUX_MSG_HELLO, 4), muxPacket(MUX_C_TERMINATE, 1)]), () => (sent = true)));
    conn.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) return;
        const type = buf.readUInt32BE(4);
        buf = buf.subarray(4 + len);
        if (type === MUX_MSG_HELLO) continue;
        done(type === MUX_S_OK ? "terminated" : "unanswered");
      }
    });
  });
}

/** A private directory with 0700 rights for the control sockets; short, since sun_path holds about 104 bytes. */
function socketDirectory(): string {
  const base = os.tmpdir().length <= 40 ? os.tmpdir() : "/tmp";
  return mkdtempSync(path.join(base, "mf-ssh-"));
}

/** The connections of one run: one per key, closed (and their sockets removed) at the end. */
export class SshConnections {
  private dir: string | undefined;
  private readonly byKey = new Map<string, SshConnection>();

  get(key: string, target: SshTarget): SshConnection {
    let c = this.byKey.get(key);
    if (!c) {
      this.dir ??= socketDirectory();
      c = new SshConnection(target, path.join(this.dir, createHash("sha256").update(key).digest("hex").slice(0, 16)));
      this.byKey.set(key, c);
    }
    c.acquire();
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((c) => c.close()));
    this.byKey.clear();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/** A key naming the machine behind a set of ssh settings (ignoring what escalation runs there). */
export function connectionKey(t: SshTarget): string {
  const options = Object.entries(t.options ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([t.address, t.port, t.user, t.identityFile, t.jump, t.hostKeyChecking, options]);
}

export class SshTransport implements Transport {
  readonly description: string;
  private readonly remoteCommand: string;

  constructor(
    private readonly connection: SshConnection,
    escalation: Escalation,
    readonly root = "",
  ) {
    const t = connection.target;
    this.remoteCommand = [...becomePrefix(t, escalation), "/bin/sh", "-s"].join(" ");
    this.description = `ssh:${destination(t)}${root ? `:${root}` : ""}`;
  }

  run(script: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return this.connection.run(this.remoteCommand, script, opts.timeoutMs);
  }

  close(): Promise<void> {
    return this.connection.release();
  }
}
