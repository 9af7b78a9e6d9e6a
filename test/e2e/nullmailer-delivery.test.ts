// End to end on this machine: `mailfleet apply` configures Debian's real
// nullmailer to relay to a real SMTP server (smtp-sink) on 127.0.0.1, and an
// illumos-style cron message sent through /usr/sbin/sendmail -t arrives with
// its headers intact. Changes /etc/nullmailer and the nullmailer service, so
// the whole file holds the machine lock and puts things back afterwards.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailfleet, type CliResult, withoutProgress } from "../support/cli.ts";
import { acquireMachineLock } from "../support/machine-lock.ts";
import { parseDump, sendSmtp, startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { ensureSyslog, type Syslog } from "../support/syslog.ts";

const CONF = "/etc/nullmailer";
const MAILNAME = "/etc/mailname";
const SPOOL = "/var/spool/nullmailer";
const INJECT = "/usr/bin/nullmailer-inject";
const SEND = "/usr/sbin/nullmailer-send";
const HOST = "zone1";
const DOMAIN = "example.test";

const CRON_MESSAGE = `From root Mon Nov 14 23:42 UTC 2016
To: root
Subject: Cron <root@zone1> echo hi
Auto-Submitted: auto-generated
X-Cron-User: root
X-Cron-Job-Name: echo hi
MIME-Version: 1.0
Content-Type: text/plain
Content-Length: 3

hi
`;

const systemd = () => existsSync("/run/systemd/system");

/**
 * Starts or stops nullmailer the way the machine does it, output not attached
 * to us (the daemon would keep it). A stop waits until the service manager
 * no longer sees the daemon: an init script's stop does not wait for it.
 */
async function nullmailerService(verb: "start" | "stop"): Promise<void> {
  const ctl = (v: string) => {
    const [cmd, args] = systemd() ? ["systemctl", [v, "nullmailer"]] : ["service", ["nullmailer", v]];
    return spawnSync(cmd, args, { stdio: "ignore", timeout: 30_000 }).status;
  };
  const code = ctl(verb);
  if (code !== 0) throw new Error(`nullmailer ${verb} exited ${code}`);
  const until = Date.now() + 30_000;
  while (verb === "stop" && ctl(systemd() ? "is-active" : "status") === 0) {
    if (Date.now() > until) throw new Error("nullmailer still runs 30 s after stop");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pids of running (not zombie) nullmailer-send processes. */
function nullmailerSendPids(): number[] {
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

/** inode and mtime of every file nullmailer reads its configuration from. */
function configStamps(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of [...readdirSync(CONF).map((f) => path.join(CONF, f)), MAILNAME]) {
    out[p] = stamp(p);
  }
  return out;
}

function stamp(p: string): string {
  const st = statSync(p, { bigint: true });
  return `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
}

/**
 * `mailfleet apply` on this machine. Tests of other branches may run an apply
 * on this host at the same moment (the host lock, /var/run/mailfleet.lock, is
 * per machine): a "locked" refusal is retried for up to a minute, as an admin would.
 */
async function applyHere(): Promise<CliResult> {
  const until = Date.now() + 60_000;
  for (;;) {
    const r = await mailfleet(["apply", "-i", inventory, "--yes"]);
    if (r.code === 0 || !/locked: another apply is running/.test(r.stderr) || Date.now() > until) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-delivery-"));
chmodSync(tmp, 0o755);
const inventory = path.join(tmp, "inventory.yaml");
const writeInventory = (port: number, adminaddr: string) =>
  writeFileSync(
    inventory,
    `hosts:
  ${HOST}:
    platform: debian
    roles: [nullmailer]
    domain: ${DOMAIN}
    adminaddr: ${adminaddr}
    relay: { host: 127.0.0.1, port: ${port} }
    transport: { type: local }
    nullmailer: { injectShim: auto }
`,
  );

let release: (() => void) | undefined;
let sink: SmtpSink | undefined;
let syslog: Syslog | undefined;
let wasRunning = false;
const saved: Saved[] = [];
let confFiles: string[] = [];
let etcFiles: string[] = [];
let queueBefore: string[] = [];
let injectStamp = "";

beforeAll(async () => {
  release = await acquireMachineLock();
  // what the machine looked like, to put back afterwards
  confFiles = readdirSync(CONF);
  etcFiles = readdirSync("/etc");
  saved.push(...confFiles.map((f) => save(path.join(CONF, f))), save(MAILNAME), save(CONF));
  saved.push(...["queue", "tmp", "failed", ""].map((d) => save(path.join(SPOOL, d))), save(`${SPOOL}/trigger`));
  queueBefore = readdirSync(`${SPOOL}/queue`);
  injectStamp = stamp(INJECT);
  wasRunning = nullmailerSendPids().length > 0;
  // start from nullmailer stopped, so apply has to start it
  if (wasRunning) await nullmailerService("stop");
  syslog = await ensureSyslog(path.join(tmp, "syslog"));
  sink = await startSmtpSink(path.join(tmp, "sink"));
  writeInventory(sink.port, `postmaster@${DOMAIN}`);
});

afterAll(async () => {
  try {
    if (nullmailerSendPids().length > 0) await nullmailerService("stop");
    for (const f of readdirSync(CONF)) if (!confFiles.includes(f)) rmSync(path.join(CONF, f), { force: true });
    for (const f of readdirSync("/etc")) if (f.startsWith("mailname.mailfleet-bak.") && !etcFiles.includes(f)) rmSync(path.join("/etc", f));
    for (const s of saved) restore(s);
    for (const f of readdirSync(`${SPOOL}/queue`)) if (!queueBefore.includes(f)) rmSync(path.join(SPOOL, "queue", f), { force: true });
    if (wasRunning) await nullmailerService("start");
  } finally {
    await sink?.stop();
    await syslog?.stop();
    rmSync(tmp, { recursive: true, force: true });
    release?.();
  }
});

describe("nullmailer on this machine, configured by mailfleet", () => {
  let firstApply = "";

  it("apply configures and starts nullmailer", async () => {
    const r = await applyHere();
    firstApply = r.stdout;
    expect(withoutProgress(r.stderr)).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${HOST}: applied`);
    expect(r.stdout).toContain("verified");
    expect(nullmailerSendPids()).toHaveLength(1);
  });

  it("plan --detailed-exitcode finds nothing left to do", async () => {
    const r = await mailfleet(["plan", "-i", inventory, "--detailed-exitcode"]);
    expect(r.stdout).toContain("no changes");
    expect(r.code).toBe(0);
  });

  it("writes remotes 0600 owned by mail and /etc/mailname as <host>.<domain>", () => {
    const st = statSync(`${CONF}/remotes`);
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.uid).toBe(uidOf("mail"));
    expect(readFileSync(`${CONF}/remotes`, "utf8")).toMatch(new RegExp(`^127\\.0\\.0\\.1 smtp --port=${sink!.port}$`, "m"));
    expect(readFileSync(MAILNAME, "utf8")).toBe(`${HOST}.${DOMAIN}\n`);
    expect(readFileSync(`${CONF}/adminaddr`, "utf8")).toBe(`postmaster@${DOMAIN}\n`);
    expect(statSync(`${SPOOL}/trigger`).isFIFO()).toBe(true);
  });

  it("injectShim auto leaves nullmailer 2.2's inject alone (the From-line bug is fixed upstream)", () => {
    const version = execFileSync("dpkg-query", ["-W", "-f=${Version}", "nullmailer"], { encoding: "utf8" });
    expect(version).toMatch(/^(\d+:)?2\.2/);
    expect(firstApply).not.toMatch(/wrap/);
    expect(stamp(INJECT)).toBe(injectStamp);
    expect(existsSync(`${INJECT}.real`)).toBe(false);
  });

  it("a second apply changes no file and restarts nothing", async () => {
    const stamps = configStamps();
    const pids = nullmailerSendPids();
    const r = await applyHere();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no changes");
    expect(r.stdout).toContain("0 hosts changed, 1 unchanged");
    expect(configStamps()).toEqual(stamps);
    expect(nullmailerSendPids()).toEqual(pids);
  });

  it("delivers illumos cron mail sent through sendmail -t with its headers, within 10 s", async () => {
    // How smtp-sink dumps a message whose body is exactly "hi": the reference for the body check.
    await sendSmtp(sink!.port, "calibrate@example.test", "calibrate@example.test", "Subject: calibrate\n\nhi\n");
    const [calibration] = sink!.files();
    expect(calibration).toBeDefined();
    const hiBody = parseDump(sink!.read(calibration!)).body;

    const started = Date.now();
    const send = spawnSync("/usr/sbin/sendmail", ["-t"], { input: CRON_MESSAGE, encoding: "utf8", timeout: 10_000 });
    expect(send.stderr).toBe("");
    expect(send.status).toBe(0);
    let dump: string | undefined;
    while (Date.now() - started < 10_000) {
      const fresh = sink!.files().filter((f) => f !== calibration);
      if (fresh.length > 0 && readdirSync(`${SPOOL}/queue`).length === queueBefore.length) {
        dump = fresh[0];
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`nullmailer delivery: ${seconds.toFixed(2)} s from sendmail -t to smtp-sink`);
    expect(dump, `no message reached smtp-sink within 10 s; queue: ${readdirSync(`${SPOOL}/queue`).join(" ")}`).toBeDefined();
    expect(sink!.files()).toHaveLength(2);

    const { envelope, headers, body } = parseDump(sink!.read(dump!));
    expect(envelope).toContain(`X-Rcpt-Args: <postmaster@${DOMAIN}>`);
    expect(envelope).toContain(`X-Helo-Args: ${HOST}.${DOMAIN}`);
    expect(headers).toContain(`To: root@${HOST}.${DOMAIN}`);
    expect(headers).toContain("Subject: Cron <root@zone1> echo hi");
    expect(headers).toContain("Auto-Submitted: auto-generated");
    expect(headers).toContain("X-Cron-User: root");
    expect(headers).toContain("X-Cron-Job-Name: echo hi");
    expect(headers.some((h) => /^>?From /.test(h))).toBe(false);
    expect(body).toBe(hiBody);
    expect(body.startsWith("hi\n")).toBe(true);
    expect(seconds).toBeLessThan(10);
  });

  it("a changed setting restarts nullmailer-send, and only that", async () => {
    const before = nullmailerSendPids();
    writeInventory(sink!.port, `root@${DOMAIN}`);
    const r = await applyHere();
    expect(withoutProgress(r.stderr)).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("restart service nullmailer (changed: nullmailer:adminaddr)");
    const after = nullmailerSendPids();
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(readFileSync(`${CONF}/adminaddr`, "utf8")).toBe(`root@${DOMAIN}\n`);
    expect((await mailfleet(["plan", "-i", inventory, "--detailed-exitcode"])).code).toBe(0);
  });
});
