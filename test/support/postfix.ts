// Postfix from the unpacked Debian package (.deps/postfix, see scripts/test-deps.mjs):
// it conflicts with the nullmailer installed on this machine, so the tests run
// its programs from there, and its daemons as separate instances, each with
// its own config, queue and data directory (postfix -c DIR), like a
// postmulti instance. smtp-sink from the same package is the far end
// (smtp-sink.ts).
import { chownSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { debian } from "../../src/platforms/debian.ts";
import type { Platform } from "../../src/platforms/types.ts";
import type { PostfixHubData } from "../../roles/postfix-hub/platforms.ts";
import type { PostfixSockets } from "../../roles/postfix-hub/sockets.ts";
import { postfixPlatforms, type PostfixData } from "../../roles/lib/postfix/platforms.ts";
import { sh } from "../../src/shell/builder.ts";
import { POSTFIX_ROOT } from "./cli.ts";
import { withMachineLock } from "./machine-lock.ts";
import { freePort } from "./ports.ts";

export const POSTFIX_LIB = path.join(POSTFIX_ROOT, "usr/lib/postfix");
export const POSTFIX_SBIN = path.join(POSTFIX_ROOT, "usr/sbin");
export const postfixEnv = { LD_LIBRARY_PATH: POSTFIX_LIB };
const tool = (name: string) => path.join(POSTFIX_SBIN, name);

/** Runs a program of the unpacked package, e.g. postfixTool("postconf", ["-c", dir, "-n"]). */
export async function postfixTool(name: string, args: string[], opts: { input?: string } = {}) {
  const r = await execa(tool(name), args, { env: postfixEnv, input: opts.input, reject: false });
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A TCP port free right now on 127.0.0.1 (picked by the kernel). */

/** Postfix's mail_owner and setgid_group; creating them changes the machine, hence the lock. */
export async function ensurePostfixAccounts(): Promise<void> {
  const has = async (cmd: string, args: string[]) => (await execa(cmd, args, { reject: false })).exitCode === 0;
  if ((await has("getent", ["group", "postdrop"])) && (await has("id", ["postfix"]))) return;
  await withMachineLock(async () => {
    if (!(await has("getent", ["group", "postdrop"]))) await execa("groupadd", ["--system", "postdrop"]);
    if (!(await has("id", ["postfix"]))) {
      await execa("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "postfix"]);
    }
  });
}

const MASTER_SERVICES = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export interface PostfixInstance {
  /** Base directory: conf/, queue/, data/, maillog. */
  dir: string;
  conf: string;
  queue: string;
  maillog: string;
  /** main.cf settings that make this an instance of the unpacked package. */
  settings: Record<string, string>;
  /** Writes master.cf: the usual services, plus smtpd on `listen` when given (e.g. "127.0.0.1:2525" or a bare port). */
  writeMasterCf(listen?: string): void;
  start(): Promise<void>;
  /** Stops the instance and removes its directories. */
  stop(): Promise<void>;
  sendmail(args: string[], message: string): Promise<number>;
  /** Queue ids in incoming, active, deferred and hold. */
  queued(): string[];
  log(): string;
}

export function postfixInstance(name: string): PostfixInstance {
  const dir = mkdtempSync(path.join(os.tmpdir(), `mf-${name}-`));
  chmodSync(dir, 0o755);
  const conf = path.join(dir, "conf");
  const queue = path.join(dir, "queue");
  const data = path.join(dir, "data");
  for (const d of [conf, queue, data]) mkdirSync(d, { recursive: true });
  chownSync(data, uidOf("postfix"), 0);
  const maillog = path.join(dir, "maillog");
  // written by postlogd (root) and, while the instance is stopped, directly by postsuper (as mail_owner)
  writeFileSync(maillog, "");
  chownSync(maillog, uidOf("postfix"), 0);
  const settings: Record<string, string> = {
    queue_directory: queue,
    data_directory: data,
    command_directory: POSTFIX_SBIN,
    daemon_directory: path.join(POSTFIX_LIB, "sbin"),
    shlib_directory: POSTFIX_LIB,
    meta_directory: path.join(POSTFIX_ROOT, "etc/postfix"),
    mail_owner: "postfix",
    setgid_group: "postdrop",
    // the unpacked binaries find their libraries only through LD_LIBRARY_PATH
    import_environment: "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH",
    export_environment: "TZ MAIL_CONFIG LANG LD_LIBRARY_PATH",
    maillog_file: maillog,
    maillog_file_prefixes: dir,
  };
  const ids = () => {
    const out: string[] = [];
    for (const sub of ["incoming", "active", "deferred", "hold"]) {
      const walk = (p: string) => {
        let entries: import("node:fs").Dirent[] = [];
        try {
          entries = readdirSync(p, { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) (e.isDirectory() ? walk(path.join(p, e.name)) : out.push(e.name));
      };
      walk(path.join(queue, sub));
    }
    return out;
  };
  return {
    dir,
    conf,
    queue,
    maillog,
    settings,
    writeMasterCf(listen) {
      writeFileSync(path.join(conf, "master.cf"), `${listen ? `${listen} inet n - n - - smtpd\n` : ""}${MASTER_SERVICES}`);
    },
    async start() {
      const r = await postfixTool("postfix", ["-c", conf, "start"]);
      if (r.code !== 0) throw new Error(`postfix ${name} did not start: ${r.stderr}\n${this.log()}`);
    },
    async stop() {
      await postfixTool("postfix", ["-c", conf, "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
    async sendmail(args, message) {
      const r = await postfixTool("sendmail", ["-C", conf, ...args], { input: message });
      return r.code;
    },
    queued: ids,
    log: () => {
      try {
        return readFileSync(maillog, "utf8");
      } catch {
        return "";
      }
    },
  };
}

function uidOf(user: string): number {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`user ${user} does not exist (ensurePostfixAccounts first)`);
  return Number(line.split(":")[2]);
}

export function mainCfLines(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}`)
    .join("\n");
}

/**
 * The Debian platform with `postfix -c DIR` as the service manager for
 * "postfix" (the way a postmulti instance is run). Everything else is Debian's.
 */
export function instancePlatform(pf: PostfixInstance): Platform {
  const ctl = (verb: string) => sh`${tool("postfix")} -c ${pf.conf} ${verb} >/dev/null 2>&1`;
  const isPostfix = (svc: string) => svc === "postfix";
  return {
    ...debian,
    serviceProbe: (svc) => (isPostfix(svc) ? sh`if ${ctl("status")}; then echo running; else echo stopped; fi` : debian.serviceProbe(svc)),
    serviceStart: (svc) => (isPostfix(svc) ? ctl("start") : debian.serviceStart(svc)),
    serviceStop: (svc) => (isPostfix(svc) ? ctl("stop") : debian.serviceStop(svc)),
    serviceRestart: (svc) => (isPostfix(svc) ? sh`${ctl("stop")}; ${ctl("start")}` : debian.serviceRestart(svc)),
    serviceReload: (svc) => (isPostfix(svc) ? ctl("reload") : debian.serviceReload(svc)),
  };
}

/** The postfix-satellite role's Debian data with Postfix's paths pointing at an instance: its config dir and the unpacked programs. */
export function instanceData(pf: PostfixInstance): PostfixData {
  const c = pf.conf;
  return {
    ...postfixPlatforms.debian,
    configDir: c,
    postfix: tool("postfix"),
    postmap: tool("postmap"),
    postconf: tool("postconf"),
    postqueue: tool("postqueue"),
    postcat: tool("postcat"),
    postsuper: tool("postsuper"),
    sendmail: tool("sendmail"),
    mailname: path.join(c, "mailname"),
  };
}

/**
 * The postfix-hub role's data for an instance: its queue directory, services
 * not chrooted (the unpacked programs find their libraries only through
 * LD_LIBRARY_PATH), and Dovecot's sockets where the test's Dovecot can
 * create them (it runs unprivileged, so not in the instance's private/).
 */
export function hubInstanceData(pf: PostfixInstance, sockets: PostfixSockets): PostfixHubData {
  return { ...instanceData(pf), queueDirectory: pf.queue, chroot: false, sockets };
}

export { freePort };
