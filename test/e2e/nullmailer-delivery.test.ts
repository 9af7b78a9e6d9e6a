// End to end on this machine: `mailfleet apply` configures Debian's real
// nullmailer to relay to a real SMTP server (smtp-sink) on 127.0.0.1, and an
// illumos-style cron message sent through /usr/sbin/sendmail -t arrives with
// its headers intact. Changes /etc/nullmailer and the nullmailer service, so
// the whole file holds the machine lock and puts things back afterwards.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailfleet, withoutProgress } from "../support/cli.ts";
import { acquireMachineLock } from "../support/machine-lock.ts";
import { applyHere, CONF, MAILNAME, nullmailerSendPids, SPOOL, takeMachineNullmailer, type MachineNullmailer } from "../support/machine-nullmailer.ts";
import { parseDump, sendSmtp, startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { ensureSyslog, type Syslog } from "../support/syslog.ts";

const INJECT = "/usr/bin/nullmailer-inject";
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
let machine: MachineNullmailer | undefined;
let queueBefore: string[] = [];
let injectStamp = "";

beforeAll(async () => {
  release = await acquireMachineLock();
  injectStamp = stamp(INJECT);
  // what the machine looked like, to put back afterwards; nullmailer stopped, so apply has to start it
  machine = await takeMachineNullmailer();
  queueBefore = machine.queueBefore;
  syslog = await ensureSyslog(path.join(tmp, "syslog"));
  sink = await startSmtpSink({ dir: path.join(tmp, "sink") });
  writeInventory(sink.port, `postmaster@${DOMAIN}`);
});

afterAll(async () => {
  try {
    await machine?.restore();
  } finally {
    await sink?.stop();
    await syslog?.stop();
    rmSync(tmp, { recursive: true, force: true });
    release?.();
  }
});

const applyHereNow = () => applyHere(inventory);

describe("nullmailer on this machine, configured by mailfleet", () => {
  let firstApply = "";

  it("apply configures and starts nullmailer", async () => {
    const r = await applyHereNow();
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
    const r = await applyHereNow();
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
    const r = await applyHereNow();
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
