// Dovecot 2.3 from the unpacked Debian packages (.deps/dovecot: dovecot-core,
// -imapd, -pop3d, -lmtpd), started from a dovecot.conf the caller wrote.
//
// Every process runs as one unprivileged user (unprivileged(): nobody when
// the tests run as root), the way Dovecot runs without root. The caller's
// config is included by a wrapper that appends the test-only overrides
// (testOverrides below): base_dir, state_dir and log_path in a temp dir,
// default_internal_user/_group and default_login_user = that user, `chroot =`
// on every service that has one, other service users replaced by that user,
// other users and groups of services and listeners cleared (such a
// listener gets mode 0666: the daemon it was for, e.g. Postfix, runs as
// another user than the one it was meant to be owned by), and every
// inet_listener moved to 127.0.0.1 (or the addresses the caller gives) on a port picked at run time. Nothing else
// of the caller's config is changed.
//
// Why a mount namespace, although Dovecot runs without root: lmtp opendir()s
// the compiled-in /usr/lib/dovecot/modules whatever mail_plugin_dir says
// (without it: "Fatal: opendir(/usr/lib/dovecot/modules) failed"), config,
// auth and doveadm-server have their module dirs compiled in too, TLS loads
// modules/libssl_iostream_openssl.so, and every program execs /usr/bin/doveconf
// when given a config file. With the package laid over /usr
// (namespace.ts) all of that is where Dovecot expects it, so no `executable =`,
// LD_LIBRARY_PATH or `doveconf -e` tricks are needed. Dovecot's own users
// (dovecot, dovenull) are not needed either: nothing is created on the machine.
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { REPO } from "./cli.ts";
import { firstStart, listens, pidFile, untilReady } from "./daemon.ts";
import { abandon, namespaceDaemon, openDaemonNamespace, unprivileged, type RunAs, type ToolResult } from "./namespace.ts";
import { dovecotPlatforms, type DovecotData } from "../../roles/dovecot/platforms.ts";
import type { Platform } from "../../src/platforms/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { freePort } from "./ports.ts";
import type { ServiceBridge } from "./service-bridge.ts";
import { dataText, replyReader } from "./smtp-client.ts";

export const DOVECOT_ROOT = path.join(REPO, ".deps/dovecot");
const LIB = path.join(DOVECOT_ROOT, "usr/lib/dovecot");
// auth links libstats_auth.so from modules/old-stats (its RUNPATH names both dirs)
const outsideEnv = { LD_LIBRARY_PATH: `${LIB}:${LIB}/modules/old-stats` };

/** The user every Dovecot process runs as; passwd-file uid:gid fields must be its ids. */
export const DOVECOT_USER: RunAs = unprivileged();

/**
 * A temp dir owned by DOVECOT_USER for the caller's dovecot.conf, passwd-file
 * and mail homes (Dovecot must read the first two and create the homes).
 */
export function dovecotTempDir(prefix = "mf-dovecot-data-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chownSync(dir, DOVECOT_USER.uid, DOVECOT_USER.gid);
  return dir;
}

async function outside(program: string, args: string[]): Promise<ToolResult> {
  const r = await execa(path.join(DOVECOT_ROOT, program), args, { env: outsideEnv, reject: false, stdin: "ignore" });
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `doveadm pw -s SCHEME -p PASSWORD`: the hash with its {SCHEME} prefix, for a passwd-file. */
export async function doveadmPw(password: string, scheme = "SHA512-CRYPT"): Promise<string> {
  // -O: built-in defaults instead of a config file, so doveadm neither reads one nor execs /usr/bin/doveconf
  const r = await outside("usr/bin/doveadm", ["-O", "pw", "-s", scheme, "-p", password]);
  if (r.code !== 0) throw new Error(`doveadm pw failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** `doveadm pw -t HASH -p PASSWORD`: whether the password matches the hash. */
export async function doveadmPwVerify(hash: string, password: string): Promise<boolean> {
  return (await outside("usr/bin/doveadm", ["-O", "pw", "-t", hash, "-p", password])).code === 0;
}

/**
 * A doveconf program for a role's service check: the unpacked package's, run
 * like doveconfN (outside any namespace), written as a script at `file`.
 */
export function doveconfProgram(file: string): string {
  const env = Object.entries(outsideEnv).map(([k, v]) => `${k}='${v}'`).join(" ");
  writeFileSync(file, `#!/bin/sh\n# doveconf of the unpacked Dovecot package (test/support/dovecot.ts)\n${env} exec '${path.join(DOVECOT_ROOT, "usr/bin/doveconf")}' "$@"\n`, { mode: 0o755 });
  return file;
}

/**
 * `doveconf -n -c FILE` for a config as it stands (no test overrides: a
 * production config that names users missing here, like dovecot and
 * dovenull, fails). Dovecot.checkConfig() checks it with the overrides.
 */
export async function doveconfN(configFile: string): Promise<ToolResult> {
  return outside("usr/bin/doveconf", ["-n", "-c", configFile]);
}

export interface DoveconfSection {
  kind: string;
  name: string;
  settings: Map<string, string>;
  children: DoveconfSection[];
}

/** Parses doveconf output (`-a` or `-n`) into its sections. */
export function parseDoveconf(text: string): DoveconfSection {
  const root: DoveconfSection = { kind: "", name: "", settings: new Map(), children: [] };
  const stack = [root];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const top = stack[stack.length - 1]!;
    if (t === "}") {
      stack.pop();
      continue;
    }
    const open = /^(\S+)(?:\s+(.*?))?\s*\{$/.exec(t);
    if (open) {
      const s: DoveconfSection = { kind: open[1]!, name: open[2] ?? "", settings: new Map(), children: [] };
      top.children.push(s);
      stack.push(s);
      continue;
    }
    const set = /^(\S+)\s*=\s?(.*)$/.exec(t);
    if (set) top.settings.set(set[1]!, set[2]!);
  }
  return root;
}

export interface DovecotListener {
  service: string;
  name: string;
  ssl: boolean;
}

/** The overrides that make a config run here; see the comment at the top of this file. */
function testOverrides(all: DoveconfSection | undefined, dir: string, ports: Map<string, number>, address = "127.0.0.1"): { text: string; listeners: Map<string, DovecotListener> } {
  const u = DOVECOT_USER;
  const own = new Set(["", "$default_internal_user", "$default_login_user", u.user, String(u.uid)]);
  const ownGroup = new Set(["", "$default_internal_group", u.group, String(u.gid)]);
  const protocols = new Set((all?.settings.get("protocols") ?? "").split(/\s+/).filter(Boolean));
  const sslOn = all?.settings.get("ssl") !== "no";
  const listeners = new Map<string, DovecotListener>();
  const out = [
    "# Test-only overrides (test/support/dovecot.ts): paths in a temp dir, one unprivileged user, loopback ports.",
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    "info_log_path =",
    "debug_log_path =",
    `default_internal_user = ${u.user}`,
    `default_internal_group = ${u.group}`,
    `default_login_user = ${u.user}`,
  ];
  for (const svc of all?.children.filter((c) => c.kind === "service") ?? []) {
    const body: string[] = [];
    const s = svc.settings;
    const protocol = s.get("protocol") ?? "";
    const active = protocol === "" || protocols.has(protocol);
    if (s.get("chroot")) body.push("  chroot =");
    if (!own.has(s.get("user") ?? "")) body.push(`  user = ${u.user}`);
    if (!ownGroup.has(s.get("group") ?? "")) body.push("  group =");
    if (!ownGroup.has(s.get("extra_groups") ?? "")) body.push("  extra_groups =");
    if (s.get("privileged_group")) body.push("  privileged_group =");
    for (const l of svc.children) {
      if (l.kind === "inet_listener") {
        const port = Number(l.settings.get("port") ?? 0);
        const ssl = l.settings.get("ssl") === "yes";
        // Dovecot opens no ssl listener with ssl = no, and none of a protocol not in `protocols`
        if (!active || port === 0 || (ssl && !sslOn)) continue;
        const p = ports.get(l.name);
        if (p === undefined) continue;
        listeners.set(l.name, { service: svc.name, name: l.name, ssl });
        body.push(`  inet_listener ${l.name} {`, `    address = ${address}`, `    port = ${p}`, "  }");
      } else if (l.kind === "unix_listener" || l.kind === "fifo_listener") {
        const fix: string[] = [];
        if (!own.has(l.settings.get("user") ?? "")) fix.push("    user =");
        if (!ownGroup.has(l.settings.get("group") ?? "")) fix.push("    group =");
        // its owner (say postfix, for Postfix's LMTP client) cannot be given here: whoever it was for may connect
        if (fix.length) fix.push("    mode = 0666");
        if (fix.length) body.push(`  ${l.kind} ${l.name} {`, ...fix, "  }");
      }
    }
    if (body.length) out.push(`service ${svc.name} {`, ...body, "}");
  }
  return { text: `${out.join("\n")}\n`, listeners };
}

/** Every inet_listener name Dovecot would open (its ports are picked before the overrides are written). */
function listenerNames(all: DoveconfSection): string[] {
  const protocols = new Set((all.settings.get("protocols") ?? "").split(/\s+/).filter(Boolean));
  const names: string[] = [];
  for (const svc of all.children.filter((c) => c.kind === "service")) {
    const protocol = svc.settings.get("protocol") ?? "";
    if (protocol !== "" && !protocols.has(protocol)) continue;
    for (const l of svc.children) if (l.kind === "inet_listener" && Number(l.settings.get("port") ?? 0) !== 0) names.push(l.name);
  }
  return names;
}

export interface DovecotOptions {
  /** The caller's dovecot.conf (DOVECOT_USER must be able to read it and what it includes). */
  config: string;
  /** Ports for some listeners by name (e.g. {lmtp: 2424}, one the caller gave another daemon); the others are picked at run time. */
  ports?: Record<string, number>;
  /**
   * Where every inet_listener listens instead of 127.0.0.1, e.g. ["10.77.5.1", "fd77:5::1"] (the
   * host end of an outside network, test/support/netns.ts); the ports are picked free on 127.0.0.1
   * all the same. The first is where start() checks that the listeners answer.
   */
  addresses?: string[];
}

export interface Dovecot {
  dir: string;
  /** The config Dovecot runs with: `!include` of the caller's, then the test-only overrides. */
  config: string;
  /** The overrides alone (what differs from the caller's config). */
  overrides: string;
  baseDir: string;
  logFile: string;
  runAs: RunAs;
  /** Port of each inet_listener by name (on 127.0.0.1, or the addresses given): imap, pop3, lmtp, imaps, ... */
  ports: Record<string, number>;
  /** The port of one listener; throws when the config has no such listener. */
  port(listener: string): number;
  /** Path of a unix_listener (relative names are under base_dir), e.g. socket("lmtp"). */
  socket(name: string): string;
  start(): Promise<void>;
  /** Stops Dovecot (all its processes); files stay for start(). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGHUP to the master: re-reads the config (the overrides are kept as they are). */
  reload(): Promise<void>;
  running(): boolean;
  /** doveadm -c <config> ARGS, as Dovecot's user, in its namespace. */
  doveadm(args: string[], opts?: { input?: string }): Promise<ToolResult>;
  /** doveconf -c <config> ARGS. */
  doveconf(args: string[]): Promise<ToolResult>;
  /** doveconf -n of the config Dovecot runs with; fails (code != 0) on errors. */
  checkConfig(): Promise<ToolResult>;
  log(): string;
  /** Stops Dovecot, ends its namespace, removes its directory. */
  close(): Promise<void>;
}

/** Starts Dovecot from the caller's config; resolves once every listener answers. */
export async function startDovecot(opts: DovecotOptions): Promise<Dovecot> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-dovecot-"));
  const u = DOVECOT_USER;
  chownSync(dir, u.uid, u.gid);
  for (const d of ["run", "state"]) {
    mkdirSync(path.join(dir, d));
    chownSync(path.join(dir, d), u.uid, u.gid);
  }
  const logFile = path.join(dir, "dovecot.log");
  writeFileSync(logFile, "");
  chownSync(logFile, u.uid, u.gid);
  const config = path.join(dir, "dovecot.conf");
  const overridesFile = path.join(dir, "test-overrides.conf");
  writeFileSync(config, `!include ${opts.config}\n!include ${overridesFile}\n`);
  const ns = await openDaemonNamespace(dir, { packages: [DOVECOT_ROOT] });
  const doveconf = (args: string[]) => ns.exec("/usr/bin/doveconf", ["-c", config, ...args], { runAs: u });
  const fail = (msg: string) => abandon(ns, dir, msg);
  // first pass: the caller's config with only the user and path overrides, to learn its services and listeners
  writeFileSync(overridesFile, testOverrides(undefined, dir, new Map()).text);
  const first = await doveconf(["-a"]);
  if (first.code !== 0) return fail(`doveconf -a failed for ${opts.config}:\n${first.stderr}`);
  const all = parseDoveconf(first.stdout);
  const ports = new Map<string, number>();
  for (const name of listenerNames(all)) {
    const given = opts.ports?.[name];
    if (given !== undefined) {
      ports.set(name, given);
      continue;
    }
    let p = await freePort();
    while ([...ports.values()].includes(p)) p = await freePort();
    ports.set(name, p);
  }
  const { text: overrides, listeners } = testOverrides(all, dir, ports, opts.addresses?.join(", "));
  writeFileSync(overridesFile, overrides);
  const check = await doveconf(["-n"]);
  if (check.code !== 0) return fail(`doveconf -n failed:\n${check.stderr}`);

  const baseDir = path.join(dir, "run");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const portRecord = Object.fromEntries([...listeners.keys()].map((n) => [n, ports.get(n)!]));

  // a listener without TLS greets (IMAP, POP3, LMTP); a TLS one only accepts
  const greeting = (l: DovecotListener) => (l.ssl ? undefined : /^(\* OK|\+OK|220)/);
  const daemon = namespaceDaemon(
    ns,
    dir,
    () => ns.spawn("/usr/sbin/dovecot", ["-F", "-c", config], { logFile, runAs: u }),
    (started) =>
      untilReady(started, {
        name: "Dovecot",
        what: `Dovecot listening on ${JSON.stringify(portRecord)}`,
        async ready() {
          for (const l of listeners.values()) if (!(await listens(ports.get(l.name)!, { host: opts.addresses?.[0], greeting: greeting(l) }))) return false;
          return pidFile(path.join(baseDir, "master.pid")) !== undefined;
        },
        timeoutMs: 20_000,
        log,
      }),
  );
  const instance: Dovecot = {
    dir,
    config,
    overrides,
    baseDir,
    logFile,
    runAs: u,
    ports: portRecord,
    port(name) {
      const p = portRecord[name];
      if (p === undefined) throw new Error(`no inet_listener ${name} (have: ${Object.keys(portRecord).join(", ") || "none"})`);
      return p;
    },
    socket: (name) => (path.isAbsolute(name) ? name : path.join(baseDir, name)),
    start: daemon.start,
    stop: daemon.stop,
    restart: daemon.restart,
    async reload() {
      daemon.reload("SIGHUP");
    },
    running: daemon.running,
    doveadm: (args, o = {}) => ns.exec("/usr/bin/doveadm", ["-c", config, ...args], { runAs: u, input: o.input }),
    doveconf,
    checkConfig: () => doveconf(["-n"]),
    log,
    close: daemon.close,
  };
  return firstStart(instance, log);
}

export interface MaildirMessage {
  /** "new" (not yet seen by any client) or "cur". */
  folder: "new" | "cur";
  file: string;
  path: string;
  /** Maildir flags after ":2," (S seen, T trashed, ...), "" in new/. */
  flags: string;
  /** Header fields by lower-case name, unfolded, in order. */
  headers: Map<string, string[]>;
  messageId: string | undefined;
  raw: string;
}

function parseHeaders(raw: string): Map<string, string[]> {
  const end = raw.search(/\r?\n\r?\n/);
  const head = (end < 0 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const headers = new Map<string, string[]>();
  for (const line of head.split(/\r?\n/)) {
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const k = m[1]!.toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), m[2]!.trim()]);
  }
  return headers;
}

/** The messages of one Maildir folder (the dir holding new/ and cur/), oldest file name first; [] when it does not exist. */
export function maildirMessages(maildir: string): MaildirMessage[] {
  const out: MaildirMessage[] = [];
  for (const folder of ["new", "cur"] as const) {
    const d = path.join(maildir, folder);
    if (!existsSync(d)) continue;
    for (const file of readdirSync(d).sort()) {
      const p = path.join(d, file);
      const raw = readFileSync(p, "latin1");
      const headers = parseHeaders(raw);
      out.push({ folder, file, path: p, flags: /:2,(.*)$/.exec(file)?.[1] ?? "", headers, messageId: headers.get("message-id")?.[0], raw });
    }
  }
  return out;
}

/** Message-IDs in a Maildir folder, one per stored message (duplicates show as repeats). */
export function maildirMessageIds(maildir: string): string[] {
  return maildirMessages(maildir).map((m) => m.messageId ?? "");
}

export type MailboxLogin =
  | { login: "ok"; count: number; messageIds: string[] }
  /** The server refused the credentials (IMAP NO/BAD to LOGIN, POP3 -ERR to USER/PASS). */
  | { login: "refused"; reply: string };

export interface MailboxClientOptions {
  port: number;
  user: string;
  password: string;
  host?: string;
  /** IMAP only; default INBOX. */
  mailbox?: string;
  /** "starttls" (STARTTLS / STLS) or "implicit" (imaps / pop3s); certificates are not verified. */
  tls?: "none" | "starttls" | "implicit";
  /** Source address, e.g. 127.0.0.9 for a client outside login_trusted_networks (Dovecot's auth penalty is per address too). */
  source?: string;
}

// Python's imaplib and poplib (Debian's /usr/bin/python3, test/system-packages.txt):
// the request comes as JSON on stdin, so the password is not on a command line.
const PY_CLIENT = String.raw`
import imaplib, json, poplib, re, socket, ssl, sys
req = json.load(sys.stdin)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def mid(header_bytes):
    text = re.sub(r"\r?\n[ \t]+", " ", header_bytes.decode("latin-1"))
    m = re.search(r"^message-id:\s*(.*?)\s*$", text, re.I | re.M)
    return m.group(1) if m else ""
def text(e):
    a = e.args[0] if e.args else ""
    return a.decode("latin-1") if isinstance(a, bytes) else str(a)
def out(d):
    print(json.dumps(d))
    sys.exit(0)
host, port, tls = req.get("host") or "127.0.0.1", req["port"], req.get("tls") or "none"
if req.get("source"):
    def connect(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, (req["source"], 0))
    imaplib.IMAP4._create_socket = connect
    poplib.POP3._create_socket = connect
if req["protocol"] == "imap":
    c = imaplib.IMAP4_SSL(host, port, ssl_context=ctx) if tls == "implicit" else imaplib.IMAP4(host, port)
    # imaplib sends ASCII only; Dovecot takes a UTF-8 password in LOGIN's quoted string
    c._encoding = "utf-8"
    if tls == "starttls":
        c.starttls(ssl_context=ctx)
    try:
        c.login(req["user"], req["password"])
    except imaplib.IMAP4.error as e:
        out({"login": "refused", "reply": text(e)})
    typ, data = c.select(req.get("mailbox") or "INBOX", readonly=True)
    if typ != "OK":
        raise SystemExit("SELECT failed: %r" % data)
    count = int(data[0])
    ids = []
    if count:
        typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = [mid(part[1]) for part in data if isinstance(part, tuple)]
    c.logout()
    out({"login": "ok", "count": count, "messageIds": ids})
else:
    c = poplib.POP3_SSL(host, port, context=ctx) if tls == "implicit" else poplib.POP3(host, port)
    if tls == "starttls":
        c.stls(context=ctx)
    try:
        c.user(req["user"])
        c.pass_(req["password"])
    except poplib.error_proto as e:
        out({"login": "refused", "reply": text(e)})
    count = c.stat()[0]
    ids = [mid(b"\r\n".join(c.top(i, 0)[1])) for i in range(1, count + 1)]
    c.quit()
    out({"login": "ok", "count": count, "messageIds": ids})
`;

async function mailboxClient(protocol: "imap" | "pop3", opts: MailboxClientOptions): Promise<MailboxLogin> {
  const r = await execa("/usr/bin/python3", ["-c", PY_CLIENT], {
    input: JSON.stringify({ protocol, ...opts }),
    reject: false,
    timeout: 30_000,
  });
  if (r.exitCode !== 0) throw new Error(`${protocol} client failed (port ${opts.port}): ${String(r.stderr).trim()}`);
  return JSON.parse(String(r.stdout)) as MailboxLogin;
}

/** Logs in over IMAP (user@domain + password) and lists the mailbox without changing it (EXAMINE-like, BODY.PEEK). */
export function imapMailbox(opts: MailboxClientOptions): Promise<MailboxLogin> {
  return mailboxClient("imap", opts);
}

/** Logs in over POP3 and lists the maildrop (STAT, TOP n 0); deletes nothing. */
export function pop3Mailbox(opts: Omit<MailboxClientOptions, "mailbox">): Promise<MailboxLogin> {
  return mailboxClient("pop3", opts);
}

export interface LmtpResult {
  /** Reply to each RCPT, in order. */
  rcpt: string[];
  /** After DATA: one reply per accepted recipient, in order (RFC 2033); [] when none was accepted. */
  data: string[];
}

/**
 * One LMTP transaction (LHLO, MAIL, RCPT..., DATA) over TCP (`port`) or a
 * unix socket (`socket`), reading one reply per accepted recipient after DATA.
 */
export async function lmtpSend(
  to: { port: number; host?: string; localAddress?: string } | { socket: string },
  envelope: { from: string; rcpts: string[] },
  message: string,
): Promise<LmtpResult> {
  const sock = "socket" in to ? net.connect(to.socket) : net.connect({ port: to.port, host: to.host ?? "127.0.0.1", localAddress: to.localAddress });
  const next = replyReader(sock);
  const cmd = async (line: string) => {
    sock.write(`${line}\r\n`);
    return next();
  };
  try {
    const greeting = await next();
    if (!greeting.startsWith("220")) throw new Error(`LMTP greeting: ${greeting}`);
    const lhlo = await cmd("LHLO test.invalid");
    if (!lhlo.startsWith("250")) throw new Error(`LHLO: ${lhlo}`);
    const mail = await cmd(`MAIL FROM:<${envelope.from}>`);
    if (!mail.startsWith("250")) throw new Error(`MAIL: ${mail}`);
    const rcpt: string[] = [];
    for (const r of envelope.rcpts) rcpt.push(await cmd(`RCPT TO:<${r}>`));
    const accepted = rcpt.filter((r) => r.startsWith("2")).length;
    const data: string[] = [];
    if (accepted > 0) {
      const go = await cmd("DATA");
      if (!go.startsWith("354")) throw new Error(`DATA: ${go}`);
      sock.write(dataText(message));
      for (let i = 0; i < accepted; i++) data.push(await next());
    }
    sock.write("QUIT\r\n");
    return { rcpt, data };
  } finally {
    sock.end();
  }
}

/**
 * `base` with the test's Dovecot as the service `service`: probed by its
 * master pid, reloaded with SIGHUP; it is started by the test (startDovecot),
 * so an apply that would stop or start it fails, saying so, unless a bridge
 * (test/support/service-bridge.ts) lets the apply ask the test to.
 */
export function withTestDovecot(base: Platform, service: string, dovecot: () => Dovecot | undefined, bridge?: Pick<ServiceBridge, "stop" | "start">): Platform {
  const pid = () => path.join(dovecot()!.baseDir, "master.pid");
  const is = (svc: string) => svc === service;
  return {
    ...base,
    serviceProbe: (svc) => (is(svc) ? sh`if kill -0 "$(cat ${pid()} 2>/dev/null)" 2>/dev/null; then echo running; else echo stopped; fi` : base.serviceProbe(svc)),
    serviceReload: (svc) => (is(svc) ? sh`kill -HUP "$(cat ${pid()})"` : base.serviceReload(svc)),
    // without a bridge the test starts it (startDovecot) and an apply may not
    serviceStop: (svc) => (is(svc) ? (bridge?.stop ?? sh`echo "Dovecot is stopped by the test" >&2; false`) : base.serviceStop(svc)),
    serviceStart: (svc) => (is(svc) ? (bridge?.start ?? sh`echo "Dovecot is started by the test" >&2; false`) : base.serviceStart(svc)),
  };
}

/**
 * A temp dir for a Dovecot the dovecot role configures: etc/ (dovecot.conf,
 * the passwd-file, lmtp-clients), vmail/ (the mail base), tls/ (a
 * self-signed certificate for `cn` whose key DOVECOT_USER may read: Dovecot
 * runs unprivileged here, a real one reads it as root), bin/doveconf, plus
 * `extraDirs`; and the role's Debian data pointing there, with DOVECOT_USER
 * as Dovecot's internal and login users.
 */
export function dovecotRoleDir(prefix: string, cn: string, extraDirs: string[] = []): { data: string; dovecotData: DovecotData } {
  const data = dovecotTempDir(prefix);
  chmodSync(data, 0o755);
  const u = DOVECOT_USER;
  for (const d of ["etc", "vmail", "tls", "bin", ...extraDirs]) {
    mkdirSync(path.join(data, d));
    chownSync(path.join(data, d), u.uid, u.gid);
  }
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-keyout", `${data}/tls/key.pem`, "-out", `${data}/tls/cert.pem`], { stdio: "ignore" });
  chownSync(`${data}/tls/key.pem`, u.uid, u.gid);
  const dovecotData: DovecotData = {
    ...dovecotPlatforms.debian,
    config: path.join(data, "etc/dovecot.conf"),
    passwdFile: path.join(data, "etc/users"),
    doveconf: doveconfProgram(path.join(data, "bin/doveconf")),
    user: u.user,
    group: u.group,
    loginUser: u.user,
  };
  return { data, dovecotData };
}
