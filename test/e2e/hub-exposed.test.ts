// The hub as the internet meets it: real Postfix 3.7 and Dovecot 2.3
// configured by the postfix-hub and dovecot roles (test/support/hub.ts),
// attacked by a client outside the fleet in its own network namespace over a
// veth pair (test/support/netns.ts: 10.77.0.2 and fd77::2 -> this machine's
// 10.77.0.1 and fd77::1, no route anywhere else), while the fleet's
// satellites sit in another namespace (10.78.0.2, fd78::2), inside the hub's
// computed mynetworks. Every property is asserted with the exact reply code
// and with what ended up in the Maildirs, the queue and /var/mail.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planHost } from "../../src/engine/host.ts";
import type { HostConfig } from "../../src/engine/inventory.ts";
import { everyStep } from "../support/cleanup.ts";
import { maildirMessages } from "../support/dovecot.ts";
import { hubHost, mailDomains, saveInventory } from "../support/inventory.ts";
import { testHub, type TestHub } from "../support/hub.ts";
import { outsideNetwork, type OutsideNetwork } from "../support/netns.ts";
import { swaks, type SwaksResult } from "../support/opensmtpd.ts";
import { freePort } from "../support/postfix.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { waitFor } from "../support/wait.ts";
import { rawSmtp } from "../support/smtp-client.ts";
import { tlsHandshake } from "../support/tls.ts";

const PASSWORDS = {
  "bob@one.example": "bob one's pass",
  "alice@one.example": "alice's pass",
  "bob@two.example": "bob two's pass",
  "admin@example.org": "admin pass",
} as const;
type Address = keyof typeof PASSWORDS;

const work = mkdtempSync(path.join(os.tmpdir(), "mf-hubx-"));
const inventory = path.join(work, "inventory.yaml");
const secrets = path.join(work, "secrets");
const secretFile = (a: Address) => path.join(secrets, a);

let th: TestHub;
let outside: OutsideNetwork;
let fleetNet: OutsideNetwork;
let sink: SmtpSink;
let submissionPort: number;
let hosts: HostConfig[];

function writeInventory() {
  const f = th.fragments;
  const sat = (address: string) => ({ platform: "debian", roles: ["nullmailer"], address, transport: { type: "local" } });
  hosts = saveInventory(inventory, {
    defaults: { domain: "example.org", adminaddr: "root@example.org", relay: { host: "hub" } },
    hosts: {
      hub: hubHost({
        address: "127.0.0.1",
        hub: {
          port: th.port,
          interfaces: ["127.0.0.1", "::1", outside.host.v4, outside.host.v6, fleetNet.host.v4, fleetNet.host.v6],
          tls: f.tls,
          submission: { port: submissionPort },
          mainCf: { ...f.instance, relayhost: `[127.0.0.1]:${sink.port}` },
        },
        dovecot: { tls: f.tls },
        mail: {
          owner: f.owner,
          base: f.base,
          domains: mailDomains(secrets, {
            // no postmaster: the role adds it (to adminaddr)
            "example.org": { users: ["admin"], aliases: { root: "admin" } },
            "one.example": { users: ["bob", "alice"], aliases: { postmaster: "bob", abuse: "postmaster", team: ["bob", "alice"], ext: ["bob", "someone@outside.test"] } },
            // no postmaster either
            "two.example": { users: ["bob"] },
          }),
        },
      }),
      sat4: sat(fleetNet.clients.v4[0]!),
      sat6: sat(fleetNet.clients.v6[0]!),
    },
  });
}

const hubTarget = () =>
  th.target(
    hosts.find((h) => h.name === "hub")!,
    hosts,
  );
const maildir = (a: Address) => path.join(th.data, "vmail", a.split("@")[1]!, a.split("@")[0]!, "Maildir");
/** The stored messages of `a` whose text holds `marker`. */
const stored = (a: Address, marker: string) => maildirMessages(maildir(a)).filter((m) => m.raw.includes(marker));
/** Files under /var/mail (local(8)'s mailboxes), which no test may add to. */
const varMail = () => (existsSync("/var/mail") ? readdirSync("/var/mail").sort() : []);

let serial = 0;
function message(subject: string, to: string, from = "someone@outside.test") {
  const marker = `hubx-${Date.now()}-${++serial}`;
  return { marker, text: `From: ${from}\nTo: ${to}\nSubject: ${subject}\nMessage-Id: <${marker}@test.invalid>\nDate: ${new Date().toUTCString()}\n\n${marker}\n` };
}

/** swaks from the outsider (default) or a satellite, to the hub's address of that network. */
function fromOutside(o: { from: string; to: string[]; text?: string; v6?: boolean; net?: OutsideNetwork; port?: number; extra?: string[] }): Promise<SwaksResult> {
  const net = o.net ?? outside;
  return swaks({
    via: net,
    server: o.v6 ? net.host.v6 : net.host.v4,
    port: o.port ?? th.port,
    // swaks takes <> for the null sender
    from: o.from || "<>",
    to: o.to,
    message: o.text ?? message("test", o.to.join(", "), o.from).text,
    extra: o.extra,
  });
}

/** swaks on the submission port from the outsider, after STARTTLS, logged in as `user`. */
function submit(user: Address, from: string, to: string, text?: string) {
  return fromOutside({ from, to: [to], port: submissionPort, text, extra: ["--tls", "--auth", "PLAIN", "--auth-user", user, "--auth-password", PASSWORDS[user]] });
}

const firstRefusal = (r: SwaksResult) => r.replies.find((x) => /^[45]\d\d /.test(x));

beforeAll(async () => {
  mkdirSync(secrets);
  for (const [a, pw] of Object.entries(PASSWORDS)) writeFileSync(secretFile(a as Address), `${pw}\n`, { mode: 0o600 });
  outside = await outsideNetwork({ v4: "10.77.0", v6: "fd77:0:0:0" });
  fleetNet = await outsideNetwork({ v4: "10.78.0", v6: "fd78:0:0:0" });
  sink = await startSmtpSink();
  th = await testHub("hubx", "hub.example.org");
  submissionPort = await freePort();
  writeInventory();
  await th.apply(hubTarget(), Object.values(PASSWORDS));
  await th.startDovecot();
}, 240_000);

afterAll(() => everyStep([() => th?.close(), () => sink?.stop(), () => outside?.close(), () => fleetNet?.close(), () => rmSync(work, { recursive: true, force: true })]), 120_000);

describe("the hub facing the internet: an outsider in its own network namespace", () => {
  it("applies and re-plans with no changes; an outsider cannot relay over IPv4 or IPv6 (554 5.7.1), a satellite can over both", async () => {
    expect((await planHost(hubTarget())).changes).toEqual([]);
    for (const v6 of [false, true]) {
      const denied = await fromOutside({ from: "spammer@outside.test", to: ["someone@else.test"], v6 });
      expect(firstRefusal(denied), denied.transcript).toMatch(/^554 5\.7\.1 <someone@else\.test>: Relay access denied/);
      const m = message(`relay from the fleet over ${v6 ? "IPv6" : "IPv4"}`, "someone@else.test", "cron@example.org");
      const ok = await fromOutside({ net: fleetNet, from: "cron@example.org", to: ["someone@else.test"], text: m.text, v6 });
      expect(ok.dataReply, ok.transcript).toMatch(/^250 /);
      await waitFor("the satellite's message at the smarthost", () => sink.messages().some((x) => x.includes(m.marker)), 60_000);
    }
    expect(th.postfix.queued()).toEqual([]);
  }, 120_000);

  it("SMTP smuggling: a bare LF never ends DATA, so a smuggled second message is never stored on its own", async () => {
    // each payload: a first message whose body hides an end of DATA followed by a second transaction
    const ends = { "\\n.\\n": "\n.\n", "\\n.\\r\\n": "\n.\r\n", "\\r\\n.\\n": "\r\n.\n", "\\r.\\r\\n": "\r.\r\n", "\\r\\n.\\r\\r\\n": "\r\n.\r\r\n" };
    for (const [name, end] of Object.entries(ends)) {
      const first = message(`smuggling ${name}`, "bob@one.example");
      const spoof = `spoofed-${first.marker}`;
      const smuggled = `MAIL FROM:<ceo@one.example>\r\nRCPT TO:<bob@two.example>\r\nDATA\r\nFrom: ceo@one.example\r\nSubject: ${spoof}\r\n\r\n${spoof}\r\n`;
      const r = await rawSmtp({
        via: outside,
        host: outside.host.v4,
        port: th.port,
        steps: [
          { send: "EHLO outside.test\r\n" },
          { send: "MAIL FROM:<someone@outside.test>\r\n" },
          { send: "RCPT TO:<bob@one.example>\r\n" },
          { send: "DATA\r\n" },
          { send: `${first.text.replace(/\n/g, "\r\n")}hello${end}${smuggled}.\r\n` },
          { send: "QUIT\r\n" },
        ],
      });
      expect(r.replies.map((x) => x[0]?.slice(0, 3)), `${name}: ${JSON.stringify(r)}`).toEqual(["250", "250", "250", "354", "250", "221"]);
      await waitFor(`the first message (${name}) in bob@one's Maildir`, () => stored("bob@one.example", first.marker).length > 0, 60_000);
      // one message, with the smuggled commands as its body text
      expect(stored("bob@one.example", first.marker)).toHaveLength(1);
      expect(stored("bob@one.example", first.marker)[0]!.raw).toContain("MAIL FROM:<ceo@one.example>");
      expect(stored("bob@two.example", spoof)).toEqual([]);
    }
  }, 180_000);

  it("mail to the hub's IP literals is refused at RCPT (550 5.1.1), nothing reaches local(8) or /var/mail; every postmaster reaches a mailbox", async () => {
    const before = varMail();
    for (const rcpt of [`root@[${outside.host.v4}]`, `postmaster@[${outside.host.v4}]`, `bob@[${outside.host.v4}]`, `root@[IPv6:${outside.host.v6}]`]) {
      const r = await fromOutside({ from: "someone@outside.test", to: [rcpt] });
      expect(firstRefusal(r), `${rcpt}: ${r.transcript}`).toMatch(/^550 5\.1\.1 /);
      expect(r.code).toBe(24);
    }
    // RFC 5321 4.5.1: postmaster of every domain served and of the hub's own name, and a bare <postmaster>
    const admins = ["postmaster@example.org", "postmaster@two.example", "postmaster@hub.example.org", "root@hub.example.org", "postmaster"];
    const m = message("to every postmaster", "postmaster@example.org");
    const r = await fromOutside({ from: "someone@outside.test", to: [...admins, "postmaster@one.example"], text: m.text });
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("the postmasters' copies", () => stored("admin@example.org", m.marker).length > 0 && stored("bob@one.example", m.marker).length > 0, 60_000);
    await waitFor("an empty queue", () => th.postfix.queued().length === 0, 60_000);
    // one copy per mailbox however many of its addresses were named
    expect(stored("admin@example.org", m.marker)).toHaveLength(1);
    expect(stored("bob@one.example", m.marker)).toHaveLength(1);
    expect(varMail()).toEqual(before);
    expect(th.postfix.log()).not.toMatch(/relay=local|required alias not found/);
  }, 120_000);

  it("a logged-in user sends only as the addresses it owns: 553 5.7.1 for another's, a foreign one, a shared alias; 554 5.7.1 for the null sender", async () => {
    const refused = {
      "bob@two.example": /^553 5\.7\.1 <bob@two\.example>: Sender address rejected: not owned by user bob@one\.example/,
      "ceo@bank.test": /^553 5\.7\.1 <ceo@bank\.test>: Sender address rejected: not owned by user bob@one\.example/,
      "team@one.example": /^553 5\.7\.1 <team@one\.example>: Sender address rejected: not owned by user bob@one\.example/,
      "ext@one.example": /^553 5\.7\.1 <ext@one\.example>: Sender address rejected: not owned by user bob@one\.example/,
      "": /^554 5\.7\.1 <>: Sender address rejected: a logged-in user sends with an address of its own/,
    };
    for (const [from, reply] of Object.entries(refused)) {
      const r = await submit("bob@one.example", from, "bob@two.example");
      expect(firstRefusal(r), `${from}: ${r.transcript}`).toMatch(reply);
      expect(r.dataReply).toBeUndefined();
    }
    const alice = await submit("alice@one.example", "bob@one.example", "bob@two.example");
    expect(firstRefusal(alice), alice.transcript).toMatch(/^553 5\.7\.1 <bob@one\.example>: Sender address rejected: not owned by user alice@one\.example/);
    // its own address and the aliases that reach it alone
    for (const from of ["bob@one.example", "postmaster@one.example", "abuse@one.example"]) {
      const m = message(`from ${from}`, "bob@two.example", from);
      const r = await submit("bob@one.example", from, "bob@two.example", m.text);
      expect(r.dataReply, r.transcript).toMatch(/^250 /);
      await waitFor(`${from}'s message at bob@two`, () => stored("bob@two.example", m.marker).length === 1, 60_000);
    }
    expect(stored("bob@two.example", "spoof")).toEqual([]);
  }, 120_000);

  it("outsiders may not use a served domain as MAIL FROM on port 25 (554 5.7.1), over IPv4 and IPv6; the null sender and foreign senders may; the fleet may", async () => {
    for (const v6 of [false, true]) {
      for (const from of ["ceo@one.example", "bob@two.example", "x@sub.example.org"]) {
        const r = await fromOutside({ from, to: ["bob@one.example"], v6 });
        expect(firstRefusal(r), `${from}: ${r.transcript}`).toMatch(new RegExp(`^554 5\\.7\\.1 <${from.replace(/\./g, "\\.")}>: Sender address rejected: mail from [a-z.]+ is sent by its users through submission`));
      }
      for (const from of ["", "someone@outside.test"]) {
        const m = message(`from <${from}> over ${v6 ? "IPv6" : "IPv4"}`, "bob@one.example", from || "MAILER-DAEMON@outside.test");
        const r = await fromOutside({ from, to: ["bob@one.example"], text: m.text, v6 });
        expect(r.dataReply, r.transcript).toMatch(/^250 /);
        await waitFor(`<${from}> at bob@one`, () => stored("bob@one.example", m.marker).length === 1, 60_000);
      }
      const m = message(`the fleet as a served domain over ${v6 ? "IPv6" : "IPv4"}`, "bob@one.example", "cron@example.org");
      const fleet = await fromOutside({ net: fleetNet, from: "cron@example.org", to: ["bob@one.example"], text: m.text, v6 });
      expect(fleet.dataReply, fleet.transcript).toMatch(/^250 /);
      await waitFor("the fleet's message at bob@one", () => stored("bob@one.example", m.marker).length === 1, 60_000);
    }
  }, 180_000);

  it("submission takes TLS 1.2 or later with forward-secret suites only; TLS 1.0, 1.1, anonymous, static-RSA and 3DES suites are refused", async () => {
    const at = { host: outside.host.v4, port: submissionPort, starttls: "smtp" as const, via: outside };
    for (const refused of [
      { protocol: "tls1" as const },
      { protocol: "tls1_1" as const },
      { protocol: "tls1_2" as const, cipher: "aNULL" },
      { protocol: "tls1_2" as const, cipher: "kRSA" },
      { protocol: "tls1_2" as const, cipher: "3DES" },
      { protocol: "tls1_2" as const, cipher: "eNULL" },
    ]) {
      const h = await tlsHandshake({ ...at, ...refused });
      expect(h.ok, `${JSON.stringify(refused)}: ${h.output}`).toBe(false);
    }
    const good = await tlsHandshake({ ...at, protocol: "tls1_2", cipher: "ECDHE+AESGCM" });
    expect(good, good.output).toMatchObject({ ok: true, protocol: "TLSv1.2", cipher: expect.stringMatching(/^ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)$/) });
    expect(await tlsHandshake({ ...at, protocol: "tls1_3" })).toMatchObject({ ok: true, protocol: "TLSv1.3" });
    // no AUTH before STARTTLS on submission, none at all on port 25
    const ehlo = async (port: number) => (await rawSmtp({ via: outside, host: outside.host.v4, port, steps: [{ send: "EHLO outside.test\r\n" }, { send: "QUIT\r\n" }] })).replies[0]![0]!;
    expect(await ehlo(submissionPort)).not.toMatch(/AUTH/);
    expect(await ehlo(th.port)).toMatch(/STARTTLS/);
    expect(await ehlo(th.port)).not.toMatch(/AUTH/);
  }, 120_000);

  it("VRFY tells nothing (502 5.5.1), for users and non-users alike", async () => {
    const r = await rawSmtp({
      via: outside,
      host: outside.host.v4,
      port: th.port,
      steps: [{ send: "EHLO outside.test\r\n" }, { send: "VRFY bob@one.example\r\n" }, { send: "VRFY nobody@one.example\r\n" }, { send: "QUIT\r\n" }],
    });
    expect(r.replies.slice(1, 3).map((x) => x[0])).toEqual(["502 5.5.1 VRFY command is disabled", "502 5.5.1 VRFY command is disabled"]);
  }, 60_000);
});
