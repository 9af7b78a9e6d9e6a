// OpenSMTPD 6.8 (with opensmtpd-filter-rspamd) from the unpacked Debian
// packages (.deps/opensmtpd), run with the caller's smtpd.conf and tables.
//
// smtpd needs root, its users opensmtpd and opensmtpq, and fixed paths
// (/var/spool/smtpd, /var/run/smtpd.sock, /usr/libexec/opensmtpd/*,
// /etc/mailname), and smtpctl must be setgid opensmtpq. All of that exists
// only inside a private mount namespace (namespace.ts) whose /etc, /usr, /var
// and /run are copy-on-write overlays into the instance's temp dir: the users
// are added to the overlaid /etc/passwd (with ids no user or group of this
// machine has), the queue lives in the overlaid /var/spool/smtpd, smtpctl's
// setgid bit is set on the overlaid copy. The namespace outlives restarts of
// smtpd, so the queue and smtpctl persist across stop()/start().
// /tmp is not overlaid: smtpd reads configs and tables from the caller's temp
// dirs, and its LMTP client reaches Dovecot's sockets there.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { REPO } from "./cli.ts";
import { firstStart, listens, untilReady } from "./daemon.ts";
import { abandon, freeIds, namespaceDaemon, openDaemonNamespace, type ToolResult } from "./namespace.ts";

export const OPENSMTPD_ROOT = path.join(REPO, ".deps/opensmtpd");

/** `smtpd -n -f FILE`: checks a config without root and without a namespace (users it names need not exist). */
export async function smtpdCheck(configFile: string): Promise<ToolResult> {
  const r = await execa(path.join(OPENSMTPD_ROOT, "usr/sbin/smtpd"), ["-n", "-f", configFile], { reject: false, stdin: "ignore" });
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface NamespaceUser {
  name: string;
  /** Default: an id no user or group of this machine has. */
  uid?: number;
  gid?: number;
  /** Default /var/lib/<name>, created inside. */
  home?: string;
}

export interface OpenSmtpdOptions {
  /** smtpd.conf: a path the namespace sees (a temp dir, or a file written with `files`). */
  config: string;
  /** Files written inside before the start, e.g. {"/etc/smtpd/vusers": "..."}; only under /etc, /var or /run (the overlays). */
  files?: Record<string, string>;
  /** Users added inside besides opensmtpd and opensmtpq, e.g. the one `virtual <vusers>` maps recipients to. */
  users?: (string | NamespaceUser)[];
  /** /etc/mailname inside (Debian's smtpd takes its default hostname from it). Default mx.test. */
  mailname?: string;
  /** Ports start() waits on for a 220 greeting; default: the `port N` of each `listen on` line of the config. */
  ports?: number[];
  /** More smtpd flags, e.g. ["-v"] or ["-T", "filters"]. */
  flags?: string[];
  /**
   * Runs inside the namespace before the config is checked and smtpd started,
   * e.g. a mailfleet apply that writes the config (`exec` as in OpenSmtpd.exec).
   */
  configure?: (exec: OpenSmtpd["exec"]) => Promise<void>;
}

export interface QueueEntry {
  id: string;
  /** mda, mta or bounce. */
  type: string;
  from: string;
  to: string;
  retries: number;
  /** pending, inflight, ... */
  state: string;
  /** The last error, e.g. "mail.lmtp: connect". */
  error: string;
  fields: string[];
}

export interface OpenSmtpd {
  dir: string;
  logFile: string;
  config: string;
  /** Users added inside, by name. */
  users: Record<string, { uid: number; gid: number; home: string }>;
  start(): Promise<void>;
  /** Stops smtpd (SIGTERM, waits for all its processes); the queue stays for start(). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  running(): boolean;
  /** How smtpd ended when it exited by itself: its exit code or signal; undefined while it runs, before a start and after stop(). */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** smtpctl ARGS inside (as root; smtpctl is setgid opensmtpq there). */
  smtpctl(args: string[]): Promise<ToolResult>;
  /** `smtpctl show queue`, parsed. */
  queue(): Promise<QueueEntry[]>;
  /** `smtpctl schedule all`. */
  scheduleAll(): Promise<void>;
  /** Submits through OpenSMTPD's sendmail (offline queue when smtpd is stopped). */
  sendmail(args: string[], message: string): Promise<ToolResult>;
  /** `smtpd -n -f <config>` inside, where the users and files exist. */
  check(): Promise<ToolResult>;
  /** Runs any program inside (as root, PATH and LANG set, plus `env`). */
  exec(cmd: string, args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<ToolResult>;
  /** Everything smtpd (with -d) and its filters wrote to stderr. */
  log(): string;
  close(): Promise<void>;
}

function parseQueue(text: string): QueueEntry[] {
  return text
    .split("\n")
    .filter((l) => /^[0-9a-f]{16}\|/.test(l))
    .map((l) => {
      const f = l.split("|");
      return {
        id: f[0]!,
        type: f[2] ?? "",
        from: f[4] ?? "",
        to: f[5] ?? "",
        retries: Number(f[10] ?? 0),
        state: f[11] ?? "",
        error: (f[f.length - 1] ?? "").replace(/^"|"$/g, ""),
        fields: f,
      };
    });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function startOpenSmtpd(opts: OpenSmtpdOptions): Promise<OpenSmtpd> {
  for (const f of Object.keys(opts.files ?? {})) {
    if (!/^\/(etc|var|run)\//.test(path.posix.normalize(f))) throw new Error(`files: ${f} is not under /etc, /var or /run (the overlays)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-smtpd-"));
  const wanted: NamespaceUser[] = [
    { name: "opensmtpd", home: "/var/lib/opensmtpd/empty" },
    { name: "opensmtpq", home: "/var/lib/opensmtpd/empty" },
    ...(opts.users ?? []).map((u) => (typeof u === "string" ? { name: u } : u)),
  ];
  const ids = freeIds(wanted.length * 2);
  const users: OpenSmtpd["users"] = {};
  const setup: string[] = [];
  wanted.forEach((u, i) => {
    const uid = u.uid ?? ids[2 * i]!;
    const gid = u.gid ?? u.uid ?? ids[2 * i + 1]!;
    const home = u.home ?? `/var/lib/${u.name}`;
    users[u.name] = { uid, gid, home };
    setup.push(
      `echo ${q(`${u.name}:x:${uid}:${gid}:${u.name}:${home}:/usr/sbin/nologin`)} >> /etc/passwd`,
      `grep -q ${q(`^${u.name}:`)} /etc/group || echo ${q(`${u.name}:x:${gid}:`)} >> /etc/group`,
      `mkdir -p ${q(home)}`,
    );
    // privsep processes chroot into opensmtpd's home (Debian's postinst makes it root-owned and empty)
    if (u.name !== "opensmtpd" && u.name !== "opensmtpq") setup.push(`chown ${uid}:${gid} ${q(home)}`);
  });
  setup.push(
    `echo ${q(opts.mailname ?? "mx.test")} > /etc/mailname`,
    // what Debian's postinst does with dpkg-statoverride
    "chgrp opensmtpq /usr/sbin/smtpctl",
    "chmod 2755 /usr/sbin/smtpctl",
  );
  const ns = await openDaemonNamespace(dir, {
    packages: [OPENSMTPD_ROOT],
    writable: ["etc", "usr", "var", "run"],
    setup: setup.join("\n"),
  });
  const logFile = path.join(dir, "smtpd.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const fail = (msg: string) => abandon(ns, dir, msg);
  for (const [f, text] of Object.entries(opts.files ?? {})) {
    const r = await ns.exec("sh", ["-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", f], { input: text });
    if (r.code !== 0) return fail(`cannot write ${f} inside: ${r.stderr}`);
  }
  if (opts.configure) {
    try {
      await opts.configure((cmd, args, o = {}) => ns.exec(cmd, args, o));
    } catch (e) {
      return fail(`configure: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const check = () => ns.exec("/usr/sbin/smtpd", ["-n", "-f", opts.config]);
  const checked = await check();
  if (checked.code !== 0) return fail(`smtpd -n -f ${opts.config}:\n${checked.stdout}${checked.stderr}`);
  const configText = (await ns.exec("cat", [opts.config])).stdout;
  const ports =
    opts.ports ??
    configText
      .split("\n")
      .filter((l) => /^\s*listen\s+on\b/.test(l))
      .flatMap((l) => [...l.matchAll(/\bport\s+(\d+)/g)].map((m) => Number(m[1])));

  const smtpctl = (args: string[]) => ns.exec("/usr/sbin/smtpctl", args);
  const daemon = namespaceDaemon(
    ns,
    dir,
    () => ns.spawn("/usr/sbin/smtpd", ["-d", ...(opts.flags ?? []), "-f", opts.config], { logFile }),
    (started) =>
      untilReady(started, {
        name: "smtpd",
        what: `smtpd answering on ${ports.join(", ") || "its control socket"}`,
        async ready() {
          if ((await smtpctl(["show", "status"])).code !== 0) return false;
          for (const p of ports) if (!(await listens(p, { greeting: /^220/, say: "QUIT\r\n" }))) return false;
          return true;
        },
        timeoutMs: 20_000,
        log,
      }),
  );
  const instance: OpenSmtpd = {
    dir,
    logFile,
    config: opts.config,
    users,
    start: daemon.start,
    stop: daemon.stop,
    restart: daemon.restart,
    running: daemon.running,
    exited() {
      const c = daemon.child();
      return !c || (c.exitCode === null && c.signalCode === null) ? undefined : { code: c.exitCode, signal: c.signalCode };
    },
    smtpctl,
    async queue() {
      const r = await smtpctl(["show", "queue"]);
      if (r.code !== 0) throw new Error(`smtpctl show queue: ${r.stderr}`);
      return parseQueue(r.stdout);
    },
    async scheduleAll() {
      const r = await smtpctl(["schedule", "all"]);
      if (r.code !== 0) throw new Error(`smtpctl schedule all: ${r.stderr}`);
    },
    sendmail: (args, message) => ns.exec("/usr/sbin/sendmail", args, { input: message }),
    check,
    exec: (cmd, args, o = {}) => ns.exec(cmd, args, o),
    log,
    close: daemon.close,
  };
  return firstStart(instance);
}

export interface SwaksResult {
  /** swaks' exit code (swaks(1)): 0 accepted, 2 no connection, 21 banner, 23 MAIL, 24 no RCPT accepted, 25 DATA, 26 refused after the data. */
  code: number;
  /** The server's reply to the end of DATA ("250 2.0.0 ... Message accepted for delivery"), if it got that far. */
  dataReply: string | undefined;
  /** Every reply line the server sent. */
  replies: string[];
  transcript: string;
}

/**
 * Sends `message` (headers and body, LF or CRLF) with swaks; `localInterface`
 * e.g. 127.0.0.9 for an outsider; `via` runs swaks elsewhere, e.g. inside an
 * outside network (test/support/netns.ts).
 */
export async function swaks(opts: {
  port: number;
  from: string;
  to: string[];
  message: string;
  server?: string;
  localInterface?: string;
  extra?: string[];
  via?: { argv(cmd: string, args: string[]): [string, string[]] };
}): Promise<SwaksResult> {
  const args = ["--server", opts.server ?? "127.0.0.1", "--port", String(opts.port), "--from", opts.from, "--to", opts.to.join(","), "--data", "-"];
  if (opts.localInterface) args.push("--local-interface", opts.localInterface);
  const all = [...args, "--suppress-data", ...(opts.extra ?? [])];
  const [cmd, argv] = opts.via ? opts.via.argv("swaks", all) : ["swaks", all];
  const r = await execa(cmd, argv, { input: opts.message, reject: false, timeout: 60_000 });
  const transcript = `${String(r.stdout)}${String(r.stderr)}`;
  const lines = transcript.split("\n");
  const replies = lines.filter((l) => /^<\S*\s+\d{3}/.test(l)).map((l) => l.replace(/^<\S*\s+/, ""));
  const go = replies.findIndex((l) => l.startsWith("354"));
  const dataReply = go < 0 ? undefined : replies.slice(go + 1).find((l) => /^\d{3} /.test(l));
  return { code: r.exitCode ?? 1, dataReply, replies, transcript };
}
