// The hub end to end, every daemon real and on loopback: a Postfix instance
// configured by the postfix-hub role delivers over LMTP (a unix socket) to
// Dovecot configured by the dovecot role; two satellites provisioned by
// mailfleet send through it: the machine's own nullmailer (applied with the
// CLI, under the machine lock) and a postfix-satellite instance. Messages are
// counted in the Maildirs and read back over IMAP and POP3 with STARTTLS.
//
// What the hub here differs in from a real one: test/support/hub.ts.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postfixSatellite } from "../../roles/postfix-satellite/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import type { HostConfig } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { doveadmPwVerify, imapMailbox, maildirMessageIds, pop3Mailbox } from "../support/dovecot.ts";
import { testHub, type TestHub } from "../support/hub.ts";
import { acquireMachineLock } from "../support/machine-lock.ts";
import { applyHere, takeMachineNullmailer, type MachineNullmailer } from "../support/machine-nullmailer.ts";
import { swaks } from "../support/opensmtpd.ts";
import { instanceData, instancePlatform, postfixInstance, postfixTool, type PostfixInstance } from "../support/postfix.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { waitFor } from "../support/wait.ts";
import { hubHost, mailDomains, saveInventory } from "../support/inventory.ts";

const PASSWORDS = {
  "bob@one.example": "one's s3cret: pass",
  "bob@two.example": 'two "quoted" pässwörd',
  "admin@example.org": "admin pass",
} as const;
type Address = keyof typeof PASSWORDS;
const BOBS = ["bob@one.example", "bob@two.example"] as const;

const work = mkdtempSync(path.join(os.tmpdir(), "mf-hub-"));
chmodSync(work, 0o755);
const inventory = path.join(work, "inventory.yaml");
const secrets = path.join(work, "secrets");
const secretFile = (a: Address) => path.join(secrets, a);
const timings: Record<string, number> = {};

let release: (() => void) | undefined;
let machine: MachineNullmailer | undefined;
let sink: SmtpSink;
let th: TestHub;
/** The hub's Postfix. */
let hub: PostfixInstance;
let sat: PostfixInstance;
let hosts: HostConfig[];

const maildir = (a: Address) => path.join(th.data, "vmail", a.split("@")[1]!, a.split("@")[0]!, "Maildir");
const count = (a: Address, id: string) => maildirMessageIds(maildir(a)).filter((m) => m === id).length;

function writeInventory(opts: { twoUsers?: string[]; protocols?: string[]; dovecotKey?: string } = {}) {
  const f = th.fragments;
  hosts = saveInventory(inventory, {
    defaults: { domain: "example.org", adminaddr: "root@example.org", relay: { host: "127.0.0.1", port: th.port } },
    hosts: {
      hub: hubHost({
        address: "127.0.0.1",
        // mail to outside domains leaves through the smarthost (smtp-sink), where it is counted
        hub: { port: th.port, interfaces: ["127.0.0.1"], tls: f.tls, mainCf: { ...f.instance, relayhost: `[127.0.0.1]:${sink.port}` } },
        dovecot: { tls: { ...f.tls, key: opts.dovecotKey ?? f.tls.key }, ...(opts.protocols ? { protocols: opts.protocols } : {}) },
        mail: {
          owner: f.owner,
          base: f.base,
          domains: mailDomains(secrets, {
            "example.org": { users: ["admin"], aliases: { root: "admin", postmaster: "admin" } },
            "one.example": { users: ["bob"], aliases: { postmaster: "bob" } },
            "two.example": { users: opts.twoUsers ?? ["bob"] },
          }),
        },
      }),
      zone1: { platform: "debian", roles: ["nullmailer"], address: "127.0.0.5", transport: { type: "local" } },
      pi: { platform: "debian", roles: ["postfix-satellite"], address: "127.0.0.6", postfix: { mainCf: sat.settings } },
    },
  });
}

const host = (name: string) => hosts.find((h) => h.name === name)!;

const hubTarget = () => th.target(host("hub"), hosts);

function satTarget(): HostTarget {
  const platform = instancePlatform(sat);
  const h = host("pi");
  const resources = roleResources(postfixSatellite, h, { platform, data: instanceData(sat), secrets: revealingResolver(h.inventoryDir), fleet: hosts }).filter(
    (r) => r.kind !== "package" && r.kind !== "mtaHandover" && r.kind !== "parkedMail",
  );
  return { host: h, transport: new LocalTransport(), ctx: hostContext(platform, ""), resources };
}

const apply = (t: HostTarget) => th.apply(t, Object.values(PASSWORDS));

let serial = 0;
function message(subject: string, to: readonly string[]) {
  const id = `<hub-${Date.now()}-${++serial}@test.invalid>`;
  return { id, text: `From: cron@example.org\nTo: ${to.join(", ")}\nSubject: ${subject}\nMessage-Id: ${id}\nDate: ${new Date().toUTCString()}\n\nHello from ${subject}.\n` };
}


/** inode, size, mtime of every file the hub's roles write. */
function stamps(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of [hub.conf, path.join(th.data, "etc")]) {
    for (const f of readdirSync(dir)) {
      const st = statSync(path.join(dir, f), { bigint: true });
      if (st.isFile()) out[path.join(dir, f)] = `${st.ino} ${st.size} ${st.mtimeNs}`;
    }
  }
  return out;
}

beforeAll(async () => {
  const t0 = Date.now();
  mkdirSync(secrets);
  for (const [a, pw] of Object.entries(PASSWORDS)) writeFileSync(secretFile(a as Address), `${pw}\n`, { mode: 0o600 });
  sink = await startSmtpSink();

  th = await testHub("hub", "hub.example.org");
  hub = th.postfix;
  sat = postfixInstance("satellite");
  sat.writeMasterCf();
  writeInventory();

  release = await acquireMachineLock();
  machine = await takeMachineNullmailer();

  // The hub: roles applied, then Dovecot started from what they wrote.
  const first = await apply(hubTarget());
  expect(first.plan.changes.map((c) => c.id)).toEqual(
    expect.arrayContaining(["postfix:main.cf", "postfix:master.cf", "postfix:vmailbox", "postfix:virtual", "postfix:service", "dovecot:dovecot.conf", "dovecot:passwd-file"]),
  );
  const t1 = Date.now();
  await th.startDovecot();
  timings.dovecotStart = Date.now() - t1;
  // The satellites.
  await apply(satTarget());
  const nm = await applyHere(inventory, ["--limit", "zone1"]);
  expect(nm.code, nm.stdout + nm.stderr).toBe(0);
  timings.setup = Date.now() - t0;
}, 240_000);

afterAll(async () => {
  const errors: unknown[] = [];
  const step = async (f: () => Promise<unknown> | undefined) => {
    try {
      await f();
    } catch (e) {
      errors.push(e);
    }
  };
  await step(() => machine?.restore());
  release?.();
  await step(() => sat?.stop());
  await step(() => th?.close());
  await step(() => sink?.stop());
  rmSync(work, { recursive: true, force: true });
  console.info(`hub-delivery timings (ms): ${JSON.stringify(timings)}`);
  if (errors.length) throw errors[0];
}, 120_000);

describe("the hub: postfix-hub and dovecot on one host, satellites provisioned by mailfleet", () => {
  it("stores passwords only as BLF-CRYPT hashes that doveadm pw -t verifies", async () => {
    const users = readFileSync(th.dovecotData.passwdFile, "utf8");
    expect(statSync(th.dovecotData.passwdFile).mode & 0o777).toBe(0o640);
    for (const [a, pw] of Object.entries(PASSWORDS)) {
      const hash = new RegExp(`^${a.replace(/\./g, "\\.")}:(\\{BLF-CRYPT\\}\\$2b\\$10\\$[./A-Za-z0-9]{53}):`, "m").exec(users)?.[1];
      expect(hash, a).toBeDefined();
      expect(users).not.toContain(pw);
      expect(await doveadmPwVerify(hash!, pw)).toBe(true);
      expect(await doveadmPwVerify(hash!, `${pw}x`)).toBe(false);
    }
  });

  it("mail from nullmailer and from the Postfix satellite lands once in each bob's own Maildir, read over IMAP and POP3 with each one's password", async () => {
    const fromZone = message("nullmailer satellite", BOBS);
    const t0 = Date.now();
    execFileSync("/usr/sbin/sendmail", ["-t"], { input: fromZone.text });
    const fromPi = message("postfix satellite", BOBS);
    expect(await sat.sendmail(["-i", "--", ...BOBS], fromPi.text)).toBe(0);
    await waitFor("both messages in both Maildirs", () => BOBS.every((b) => count(b, fromZone.id) > 0 && count(b, fromPi.id) > 0), 60_000);
    timings.satellitesToMaildirs = Date.now() - t0;
    for (const b of BOBS) expect([count(b, fromZone.id), count(b, fromPi.id)]).toEqual([1, 1]);
    expect(maildirMessageIds(maildir("admin@example.org"))).toEqual([]);

    for (const b of BOBS) {
      const both = expect.arrayContaining([fromZone.id, fromPi.id]);
      const imap = await imapMailbox({ port: th.dovecot!.port("imap"), user: b, password: PASSWORDS[b], tls: "starttls" });
      expect(imap).toEqual({ login: "ok", count: 2, messageIds: both });
      const pop3 = await pop3Mailbox({ port: th.dovecot!.port("pop3"), user: b, password: PASSWORDS[b], tls: "starttls" });
      expect(pop3).toEqual({ login: "ok", count: 2, messageIds: both });
    }
    const imaps = await imapMailbox({ port: th.dovecot!.port("imaps"), user: "bob@one.example", password: PASSWORDS["bob@one.example"], tls: "implicit" });
    expect(imaps).toMatchObject({ login: "ok", count: 2 });
  }, 120_000);

  it("bob@one's password does not open bob@two's mailbox; a wrong password is refused; no login without TLS", async () => {
    const cross = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@two.example", password: PASSWORDS["bob@one.example"], tls: "starttls" });
    expect(cross).toEqual({ login: "refused", reply: expect.stringMatching(/AUTHENTICATIONFAILED/) });
    const wrong = await pop3Mailbox({ port: th.dovecot!.port("pop3"), user: "bob@one.example", password: "wrong", tls: "starttls" });
    expect(wrong).toEqual({ login: "refused", reply: expect.stringMatching(/^-ERR \[AUTH\]/) });
    // from an address that is not the server's own, plaintext logins need TLS (ssl = required)
    const plain = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@one.example", password: PASSWORDS["bob@one.example"], source: "127.0.0.9" });
    expect(plain.login).toBe("refused");
  }, 60_000);

  it("relays for the fleet only: an outsider gets 554 5.7.1 and nothing is queued; a satellite's address may relay; unknown users get 550 at RCPT", async () => {
    const outside = message("relay attempt", ["someone@outside.test"]);
    const before = hub.queued().length;
    const denied = await swaks({ port: th.port, from: "spammer@outside.test", to: ["someone@outside.test"], message: outside.text, localInterface: "127.0.0.9" });
    expect(denied.transcript).toMatch(/554 5\.7\.1 .*Relay access denied/);
    expect(denied.code).toBe(24);
    expect(hub.queued()).toHaveLength(before);

    const allowed = message("relay from a satellite", ["someone@outside.test"]);
    const ok = await swaks({ port: th.port, from: "cron@example.org", to: ["someone@outside.test"], message: allowed.text, localInterface: "127.0.0.5" });
    expect(ok.dataReply, ok.transcript).toMatch(/^250 /);
    await waitFor("the relayed message at the smarthost", () => sink.messages().some((m) => m.includes(allowed.id)), 60_000);
    expect(sink.messages().filter((m) => m.includes(outside.id))).toEqual([]);

    const unknown = await swaks({ port: th.port, from: "someone@outside.test", to: ["nobody@one.example"], message: message("unknown", ["nobody@one.example"]).text, localInterface: "127.0.0.9" });
    expect(unknown.replies.find((r) => /^5\d\d/.test(r)), unknown.transcript).toMatch(/^550 5\.1\.1 <nobody@one\.example>: Recipient address rejected: User unknown in virtual mailbox table/);
    // an outsider may deliver to the hub's own domains, and the fleet's adminaddr is a real mailbox
    const inbound = message("to the admin", ["root@example.org"]);
    const r = await swaks({ port: th.port, from: "someone@outside.test", to: ["root@example.org", "postmaster@one.example"], message: inbound.text, localInterface: "127.0.0.9" });
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("root@example.org in admin's Maildir", () => count("admin@example.org", inbound.id) === 1 && count("bob@one.example", inbound.id) === 1, 60_000);
  }, 120_000);

  it("a re-apply changes nothing: no file written, Postfix and Dovecot not reloaded", async () => {
    const files = stamps();
    const pids = th.pids();
    const t0 = Date.now();
    const plan = await planHost(hubTarget());
    timings.replan = Date.now() - t0;
    expect(plan.changes).toEqual([]);
    const r = await applyHost(hubTarget(), plan);
    expect(r.applied).toEqual([]);
    expect(stamps()).toEqual(files);
    expect(th.pids()).toEqual(pids);
    expect(th.dovecot!.log()).not.toMatch(/SIGHUP/);
  }, 60_000);

  it("a rotated password changes only the passwd-file, shown as sensitive; the old one is refused, the new one accepted", async () => {
    const files = stamps();
    const pids = th.pids();
    const fresh = "rotated pässword 2";
    writeFileSync(secretFile("bob@one.example"), `${fresh}\n`);
    try {
      const { plan, text } = await apply(hubTarget());
      expect(plan.changes.map((c) => `${c.id} ${c.action}`)).toEqual(["dovecot:passwd-file update"]);
      expect(text).toContain(`${th.dovecotData.passwdFile}: sensitive content changed (not shown)`);
      expect(text).not.toContain(fresh);
      expect(text).not.toContain(PASSWORDS["bob@one.example"]);
      expect(text).not.toMatch(/\$2b\$/);
      const changed = Object.keys(files).filter((f) => stamps()[f] !== files[f]);
      expect(changed).toEqual([th.dovecotData.passwdFile]);
      expect(th.pids()).toEqual(pids);
      const old = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@one.example", password: PASSWORDS["bob@one.example"], tls: "starttls" });
      expect(old.login).toBe("refused");
      const now = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@one.example", password: fresh, tls: "starttls" });
      expect(now.login).toBe("ok");
    } finally {
      writeFileSync(secretFile("bob@one.example"), `${PASSWORDS["bob@one.example"]}\n`);
    }
    expect((await apply(hubTarget())).plan.changes.map((c) => c.id)).toEqual(["dovecot:passwd-file"]);
  }, 120_000);

  it("keeps mail queued while Dovecot is down: 20 messages arrive once each after it is back", async () => {
    await th.dovecot!.stop();
    const sent: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const m = message(`while Dovecot is down ${i}`, ["bob@two.example"]);
        const r = await swaks({ port: th.port, from: "cron@example.org", to: ["bob@two.example"], message: m.text });
        expect(r.dataReply, r.transcript).toMatch(/^250 /);
        sent.push(m.id);
      }
      await waitFor("20 deferred messages", () => (hub.log().match(/to=<bob@two\.example>.*status=deferred/g) ?? []).length >= 20 && hub.queued().length === 20, 60_000);
      expect(sent.map((id) => count("bob@two.example", id))).toEqual(Array(20).fill(0));
    } finally {
      await th.dovecot!.start();
    }
    const t0 = Date.now();
    await postfixTool("postqueue", ["-c", hub.conf, "-f"]);
    await waitFor("all 20 in bob@two's Maildir", () => sent.every((id) => count("bob@two.example", id) > 0), 60_000);
    timings.queuedToMaildir = Date.now() - t0;
    await waitFor("an empty queue", () => hub.queued().length === 0, 30_000);
    expect(sent.map((id) => count("bob@two.example", id))).toEqual(Array(20).fill(1));
  }, 180_000);

  it("checks the rendered dovecot.conf with doveconf before a reload, and does not reload a config it refuses", async () => {
    const missing = path.join(th.data, "tls/missing.pem");
    const accepted = readFileSync(th.dovecotData.config, "utf8");
    writeInventory({ dovecotKey: missing });
    try {
      const t = hubTarget();
      const plan = await planHost(t);
      await expect(applyHost(t, plan)).rejects.toMatchObject({ detail: expect.stringContaining(`${missing} (dovecot.tls) is missing`) });
      expect(th.dovecot!.log()).not.toMatch(/SIGHUP/);
      // the refused config does not stay on disk for the next restart: the accepted one is back
      expect(readFileSync(th.dovecotData.config, "utf8")).toBe(accepted);
      expect((await planHost(hubTarget())).changes.map((c) => c.id)).toContain("dovecot:dovecot.conf");
    } finally {
      writeInventory();
    }
    // a config it accepts: the reload happens after the check
    writeInventory({ protocols: ["imap"] });
    const { plan } = await apply(hubTarget());
    expect(plan.changes.map((c) => `${c.id} ${c.action}`)).toEqual(["dovecot:dovecot.conf update", "dovecot:service reload"]);
    await waitFor("Dovecot's reload", () => /SIGHUP received - reloading configuration/.test(th.dovecot!.log()), 20_000);
    const imap = await imapMailbox({ port: th.dovecot!.port("imap"), user: "bob@one.example", password: PASSWORDS["bob@one.example"], tls: "starttls" });
    expect(imap.login).toBe("ok");
    writeInventory();
    await apply(hubTarget());
  }, 120_000);

  it("removing a user keeps its Maildir, and the plan says so", async () => {
    const before = maildirMessageIds(maildir("bob@two.example")).length;
    expect(before).toBeGreaterThan(0);
    writeInventory({ twoUsers: [] });
    const { plan, text } = await apply(hubTarget());
    expect(plan.changes.map((c) => c.id)).toEqual(["postfix:vmailbox", "postfix:postmap-vmailbox", "dovecot:passwd-file"]);
    expect(text).toMatch(/= keep 1 mailbox under .*vmail no longer in the inventory \(mailfleet never deletes them\): two\.example\/bob/);
    expect(maildirMessageIds(maildir("bob@two.example"))).toHaveLength(before);
    const again = await planHost(hubTarget());
    expect(again.changes).toEqual([]);
    expect(again.kept.map((c) => c.summary)).toEqual([expect.stringContaining("two.example/bob")]);
    // and the hub now refuses mail for that user at RCPT
    const r = await swaks({ port: th.port, from: "cron@example.org", to: ["bob@two.example"], message: message("gone", ["bob@two.example"]).text });
    expect(r.replies.find((x) => /^5\d\d/.test(x)), r.transcript).toMatch(/^550 5\.1\.1/);
    expect(existsSync(maildir("bob@two.example"))).toBe(true);
  }, 120_000);
});
