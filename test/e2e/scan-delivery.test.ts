// Scanning in front, mail stored elsewhere, every daemon real and on loopback:
// a scan host (roles rspamd and opensmtpd) and a store host (role dovecot),
// two hosts of one inventory provisioned by mailfleet. OpenSMTPD 6.8 asks
// rspamd 3.4 about every message during the SMTP session (filter-rspamd) and
// delivers each recipient over LMTP to Dovecot 2.3 on the store host, whose
// LMTP takes mail only from the scan host's address. Messages are counted in
// the Maildirs: none lost, none twice.
//
// What the test sets that real hosts would not: test/support/scan-pipeline.ts
// (the roles applied inside OpenSMTPD's mount namespace and temp dirs, smtpd
// started by the test), and:
// - the scan host's address is 127.0.0.1, the source address the kernel gives
//   its LMTP connections to 127.0.0.1 (OpenSMTPD's lmtp action cannot pick
//   one); outsiders connect from 127.0.0.9, the fleet host web1 from
//   127.0.0.6; the scan host's outbound relay is an smtp-sink on 127.0.0.3.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opensmtpd as opensmtpdRole } from "../../roles/opensmtpd/index.ts";
import { opensmtpdPlatforms } from "../../roles/opensmtpd/platforms.ts";
import { applyHost, planHost } from "../../src/engine/host.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import { imapMailbox, lmtpSend } from "../support/dovecot.ts";
import { waitFor } from "../support/wait.ts";
import { startOpenSmtpd, swaks } from "../support/opensmtpd.ts";
import { freePort } from "../support/ports.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { RSPAMD_OFFLINE, scanInventoryParts, startScanPipeline, type ScanInventoryInput, type ScanPipeline } from "../support/scan-pipeline.ts";
import { smtpSession } from "../support/smtp-client.ts";

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const PASSWORDS = {
  "bob@one.example": "bob one's pass",
  "alice@one.example": "alice's pass",
  "dave@one.example": "dave's pass",
  "bob@two.example": 'bob two "quoted"',
  "carol@two.example": "carol's pass",
  "admin@example.org": "admin pass",
} as const;
type Address = keyof typeof PASSWORDS;
const BOBS = ["bob@one.example", "bob@two.example"] as const;
/** The recipients of the load test. */
const FIVE: Address[] = ["bob@one.example", "alice@one.example", "dave@one.example", "bob@two.example", "carol@two.example"];
const EVERYONE = Object.keys(PASSWORDS) as Address[];

const timings: Record<string, number> = {};
const figures: Record<string, unknown> = {};

let p: ScanPipeline;
let sink: SmtpSink;

const count = (a: Address, id: string) => p.count(a, id);
const ids = (a: Address) => p.ids(a);
const files = (a: Address) => p.files(a);

function inventory({ data, ports, secret }: ScanInventoryInput) {
  const parts = scanInventoryParts({ data, ports, secret });
  const s = (a: Address) => `{ password: { file: ${secret(a)} } }`;
  return `defaults:
  domain: example.org
  adminaddr: root@example.org
  mail:
${parts.mail}
    domains:
      example.org:
        users: { admin: ${s("admin@example.org")} }
        aliases: { root: admin, postmaster: admin }
      one.example:
        users: { bob: ${s("bob@one.example")}, alice: ${s("alice@one.example")}, dave: ${s("dave@one.example")} }
        aliases: { postmaster: bob, team: [bob, alice] }
      two.example:
        users: { bob: ${s("bob@two.example")}, carol: ${s("carol@two.example")} }
hosts:
  scan:
    platform: debian
    roles: [rspamd, opensmtpd]
    address: 127.0.0.1
    relay: { host: 127.0.0.3, port: ${sink.port} }
    rspamd: { listen: "127.0.0.1:${ports.rspamd}", disable: ${RSPAMD_OFFLINE} }
    opensmtpd: { store: store, listen: [127.0.0.1], port: ${ports.smtp} }
${parts.store}
  web1: { platform: debian, roles: [nullmailer], address: 127.0.0.6, relay: { host: scan } }
`;
}

let serial = 0;
function message(subject: string, to: readonly string[], body = "Hello from the outside.\n") {
  const id = `<scan-${Date.now()}-${++serial}@outside.example>`;
  return { id, text: `From: Alice <alice@outside.example>\nTo: ${to.join(", ")}\nSubject: ${subject}\nMessage-Id: ${id}\nDate: ${new Date().toUTCString()}\n\n${body}` };
}
const send = (m: { text: string }, to: readonly string[], from = "127.0.0.9") =>
  swaks({ port: p.ports.smtp, from: "alice@outside.example", to: [...to], message: m.text, localInterface: from });
const queueEmpty = () => p.queueEmpty();

/** inode, size, mtime of every file a role writes on the two hosts. */
async function stamps(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const dir of [path.join(p.data, "etc"), path.join(p.rspamdConf, "local.d")]) {
    for (const f of readdirSync(dir)) {
      const st = statSync(path.join(dir, f), { bigint: true });
      if (st.isFile()) out[path.join(dir, f)] = `${st.ino} ${st.size} ${st.mtimeNs}`;
    }
  }
  const inside = await p.smtpd.exec("sh", ["-c", "stat -c '%n %i %s %Y.%y' /etc/smtpd.conf /etc/mailname /etc/smtpd/*"]);
  for (const l of inside.stdout.trim().split("\n")) out[l.split(" ")[0]!] = l;
  return out;
}
const smtpdPid = async () => (await p.smtpd.exec("sh", ["-c", "pgrep -o -x smtpd"])).stdout.trim();
const dovecotPid = () => readFileSync(path.join(p.dovecot.baseDir, "master.pid"), "utf8").trim();

beforeAll(async () => {
  sink = await startSmtpSink({ address: "127.0.0.3" });
  p = await startScanPipeline({ prefix: "mf-scan-", passwords: PASSWORDS, inventory });
  Object.assign(timings, p.timings);
  figures.firstApply = p.firstApply;
}, 300_000);

afterAll(async () => {
  const errors: unknown[] = [];
  for (const stop of [() => p?.close(), () => sink?.stop()]) {
    try {
      await stop();
    } catch (e) {
      errors.push(e);
    }
  }
  console.info(`scan-delivery timings (ms): ${JSON.stringify(timings)}\nscan-delivery figures: ${JSON.stringify(figures)}`);
  if (errors.length) throw errors[0];
}, 120_000);

describe("a scan host and a store host provisioned by mailfleet", () => {
  it("wrote the whole pipeline: smtpd.conf that smtpd -n accepts, LMTP to the store, the store letting in the scan host only", async () => {
    expect(figures.firstApply).toEqual(expect.arrayContaining(["opensmtpd:smtpd.conf", "opensmtpd:vusers", "opensmtpd:relay-clients", "opensmtpd:update-tables"]));
    const conf = (await p.smtpd.exec("cat", ["/etc/smtpd.conf"])).stdout;
    expect(conf).toMatch(new RegExp(`^action "store" lmtp "127\\.0\\.0\\.1:${p.ports.lmtp}" rcpt-to virtual <vusers>$`, "m"));
    expect(conf).toMatch(new RegExp(`filter-rspamd -url http://127\\.0\\.0\\.1:${p.ports.rspamd}"$`, "m"));
    expect((await p.smtpd.check()).code).toBe(0);
    expect(readFileSync(path.join(p.data, "etc/lmtp-clients"), "utf8")).toMatch(/ = 127\.0\.0\.1 \(scan\)$/m);
  });

  it("a message to bob@one.example and bob@two.example arrives exactly once in each Maildir, read back over IMAP", async () => {
    const m = message("to both bobs", BOBS);
    const t0 = Date.now();
    const r = await send(m, BOBS);
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("both Maildirs", () => BOBS.every((b) => count(b, m.id) > 0), 60_000);
    timings.twoBobs = Date.now() - t0;
    await waitFor("an empty queue", queueEmpty);
    for (const b of BOBS) {
      expect(count(b, m.id)).toBe(1);
      const imap = await imapMailbox({ port: p.dovecot.port("imap"), user: b, password: PASSWORDS[b], tls: "starttls" });
      expect(imap).toMatchObject({ login: "ok", messageIds: expect.arrayContaining([m.id]) });
      if (imap.login === "ok") expect(imap.messageIds.filter((x) => x === m.id)).toHaveLength(1);
    }
    // the message was scanned on the way (rspamd's headers are added only for "add header"; its log has the scan)
    expect(p.rspamd.log()).toMatch(new RegExp(m.id.replace(/[<>.]/g, "."), "i"));
  }, 120_000);

  it("1,000 messages with 1 to 5 recipients each: every recipient has every message exactly once", async () => {
    // a seeded generator, so a failure can be replayed
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const batch = Array.from({ length: 1000 }, (_, i) => {
      const n = 1 + Math.floor(rand() * 5);
      const to = [...FIVE].sort(() => rand() - 0.5).slice(0, n);
      return { to, ...message(`load ${i}`, to) };
    });
    const before = Object.fromEntries(FIVE.map((a) => [a, files(a)]));
    const expected = Object.fromEntries(FIVE.map((a) => [a, batch.filter((m) => m.to.includes(a)).length]));
    figures.loadRecipients = batch.reduce((n, m) => n + m.to.length, 0);
    const t0 = Date.now();
    // 10 sessions of 100 messages each (OpenSMTPD's default limit per session), from outside
    const replies = await Promise.all(
      Array.from({ length: 10 }, async (_, s) => {
        const session = await smtpSession(p.ports.smtp, { localAddress: "127.0.0.9" });
        const out: string[] = [];
        for (const m of batch.slice(s * 100, s * 100 + 100)) out.push((await session.send({ from: "alice@outside.example", rcpts: m.to }, m.text)).data ?? "no data");
        await session.close();
        return out;
      }),
    );
    timings.load1000Accepted = Date.now() - t0;
    expect(replies.flat().filter((r) => !r.startsWith("250 "))).toEqual([]);
    await waitFor("every recipient's messages", () => FIVE.every((a) => files(a) - before[a]! >= expected[a]!), 240_000);
    await waitFor("an empty queue", queueEmpty, 60_000);
    timings.load1000Delivered = Date.now() - t0;
    for (const a of FIVE) {
      const have = ids(a);
      const mine = batch.filter((m) => m.to.includes(a));
      const missing = mine.filter((m) => !have.includes(m.id));
      const twice = mine.filter((m) => have.filter((x) => x === m.id).length > 1);
      const stray = batch.filter((m) => !m.to.includes(a) && have.includes(m.id));
      expect({ a, missing: missing.length, twice: twice.length, stray: stray.length }).toEqual({ a, missing: 0, twice: 0, stray: 0 });
    }
    figures.loadPerRecipient = expected;
    figures.tempFails = (p.smtpd.log().match(/result=TempFail/g) ?? []).length;
  }, 300_000);

  it("refuses GTUBE with 550 at DATA and stores nothing", async () => {
    const m = message("GTUBE", BOBS, `${GTUBE}\n`);
    const r = await send(m, BOBS);
    expect(r.dataReply, r.transcript).toMatch(/^550 /);
    expect(r.code).toBe(26);
    expect(await p.smtpd.queue()).toEqual([]);
    await new Promise((res) => setTimeout(res, 500));
    for (const b of BOBS) expect(count(b, m.id)).toBe(0);
  });

  it("with rspamd stopped: 4xx at DATA, nothing stored, nothing bounced; started again, a resend arrives once", async () => {
    await waitFor("an empty queue", queueEmpty);
    const adminBefore = files("admin@example.org");
    const sinkBefore = sink.messages().length;
    await p.rspamd.stop();
    const m = message("rspamd down", BOBS);
    try {
      const r = await send(m, BOBS);
      expect(r.dataReply, r.transcript).toMatch(/^4\d\d /);
      figures.rspamdDownReply = r.dataReply;
      expect(await p.smtpd.queue()).toEqual([]);
    } finally {
      const t = Date.now();
      await p.rspamd.start();
      timings.rspamdRestart = Date.now() - t;
    }
    for (const b of BOBS) expect(count(b, m.id)).toBe(0);
    // no bounce: none queued, none to the admin, none relayed out
    expect(files("admin@example.org")).toBe(adminBefore);
    expect(sink.messages()).toHaveLength(sinkBefore);
    const r = await send(m, BOBS);
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("the resend in both Maildirs", () => BOBS.every((b) => count(b, m.id) > 0), 60_000);
    await waitFor("an empty queue", queueEmpty);
    for (const b of BOBS) expect(count(b, m.id)).toBe(1);
  }, 240_000);

  it("with Dovecot stopped, messages stay queued in OpenSMTPD; started again, `smtpctl schedule all` delivers each once", async () => {
    await waitFor("an empty queue", queueEmpty);
    await p.dovecot.stop();
    const batch = Array.from({ length: 10 }, (_, i) => message(`store down ${i}`, BOBS));
    try {
      for (const m of batch) expect((await send(m, BOBS)).dataReply).toMatch(/^250 /);
      await waitFor("20 envelopes deferred", async () => {
        const q = await p.smtpd.queue();
        return q.length === 20 && q.every((e) => e.retries >= 1);
      }, 60_000);
      const q = await p.smtpd.queue();
      expect(q.every((e) => e.type === "mda" && /mail\.lmtp: connect/.test(e.error))).toBe(true);
      figures.queuedWhileStoreDown = q.length;
    } finally {
      await p.dovecot.start();
    }
    const t0 = Date.now();
    await p.smtpd.scheduleAll();
    await waitFor("delivery once Dovecot is back", () => batch.every((m) => BOBS.every((b) => count(b, m.id) > 0)), 60_000);
    await waitFor("an empty queue", queueEmpty);
    timings.storeBackToDelivered = Date.now() - t0;
    for (const m of batch) for (const b of BOBS) expect(count(b, m.id)).toBe(1);
  }, 180_000);

  it("from an outside address: relay to an outside domain and unknown recipients refused at RCPT; the fleet's host may relay", async () => {
    const sinkBefore = sink.messages().length;
    const out = message("relay attempt", ["someone@outside.test"]);
    const denied = await send(out, ["someone@outside.test"]);
    expect(denied.replies.find((l) => /^5\d\d/.test(l)), denied.transcript).toMatch(/^550 Invalid recipient: <someone@outside\.test>/);
    expect(denied.code).toBe(24);
    const unknown = await send(message("unknown", ["nobody@one.example"]), ["nobody@one.example"]);
    expect(unknown.replies.find((l) => /^5\d\d/.test(l)), unknown.transcript).toMatch(/^550 Invalid recipient: <nobody@one\.example>/);
    expect(await p.smtpd.queue()).toEqual([]);
    // web1 (127.0.0.6) relays through the scan host: counted at the outbound relay
    const fleet = message("from web1", ["someone@outside.test"]);
    const ok = await send(fleet, ["someone@outside.test"], "127.0.0.6");
    expect(ok.dataReply, ok.transcript).toMatch(/^250 /);
    await waitFor("web1's message at the relay", () => sink.messages().some((m) => m.includes(fleet.id)), 60_000);
    expect(sink.messages().filter((m) => m.includes(out.id))).toEqual([]);
    expect(sink.messages().length).toBe(sinkBefore + 1);
  }, 120_000);

  it("the store's LMTP refuses every client but the scan host: real Dovecot, from an outside address", async () => {
    const m = message("straight to LMTP", BOBS);
    const outsider = await lmtpSend({ port: p.ports.lmtp, localAddress: "127.0.0.9" }, { from: "x@outside.test", rcpts: [...BOBS] }, m.text);
    expect(outsider.rcpt).toEqual(BOBS.map((b) => `550 5.1.1 <${b}> User doesn't exist: ${b}`));
    expect(outsider.data).toEqual([]);
    figures.lmtpOutsider = outsider.rcpt[0];
    const scan = await lmtpSend({ port: p.ports.lmtp, localAddress: "127.0.0.1" }, { from: "x@outside.test", rcpts: [...BOBS, "nobody@one.example"] }, m.text);
    expect(scan.rcpt).toEqual(["250 2.1.5 OK", "250 2.1.5 OK", "550 5.1.1 <nobody@one.example> User doesn't exist: nobody@one.example"]);
    expect(scan.data).toHaveLength(2);
    for (const b of BOBS) expect(count(b, m.id)).toBe(1);
  });

  it("a re-apply changes nothing (no file written, smtpd not restarted, Dovecot not reloaded); GTUBE and the duplicate checks again after it", async () => {
    const before = await stamps();
    const pids = [await smtpdPid(), dovecotPid()];
    const t0 = Date.now();
    const targets = [p.scanTarget(true), p.rspamdTarget(), p.storeTarget()];
    for (const t of targets) {
      const plan = await planHost(t);
      expect(plan.changes, t.host.name).toEqual([]);
      expect((await applyHost(t, plan)).applied).toEqual([]);
    }
    timings.replanThreeTargets = Date.now() - t0;
    expect(await stamps()).toEqual(before);
    expect([await smtpdPid(), dovecotPid()]).toEqual(pids);
    expect(p.dovecot.log()).not.toMatch(/SIGHUP/);

    const gtube = message("GTUBE again", BOBS, `${GTUBE}\n`);
    expect((await send(gtube, BOBS)).dataReply).toMatch(/^550 /);
    const to = ["team@one.example", "bob@two.example", "carol@two.example"];
    const all = message("after the re-apply", to);
    expect((await send(all, to)).dataReply).toMatch(/^250 /);
    // team is bob@one.example and alice: each gets it once through the alias
    const want: Address[] = ["bob@one.example", "alice@one.example", "bob@two.example", "carol@two.example"];
    await waitFor("delivery after the re-apply", () => want.every((a) => count(a, all.id) > 0), 60_000);
    await waitFor("an empty queue", queueEmpty);
    for (const a of EVERYONE) expect([a, count(a, all.id)]).toEqual([a, want.includes(a) ? 1 : 0]);
    for (const b of BOBS) expect(count(b, gtube.id)).toBe(0);
  }, 180_000);
});

describe("Debian 12's OpenSMTPD 6.8.0p2 and STARTTLS", () => {
  it("fails every handshake with OpenSSL 3 on the config the role renders for TLS, which is why the role refuses opensmtpd.tls on debian", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-smtpd-tls-"));
    chmodSync(dir, 0o755);
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=scan.example.org", "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`], { stdio: "ignore" });
    chmodSync(`${dir}/key.pem`, 0o600);
    const port = await freePort();
    // what the role writes where OpenSMTPD does TLS (freebsd), with Debian's programs and paths in a temp dir
    const scan = p.host("scan");
    const tlsHost = { ...scan, opensmtpd: { ...(scan.opensmtpd as object), port, filter: "none", tls: { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` } } };
    const data = { ...opensmtpdPlatforms.debian, starttls: true as const, config: `${dir}/smtpd.conf`, tableDir: `${dir}/tables` };
    mkdirSync(data.tableDir);
    for (const r of roleResources(opensmtpdRole, tlsHost, { platform: debian, data, secrets: revealingResolver(p.work), fleet: p.hosts })) {
      if (r.kind === "file" && r.path.startsWith(dir)) writeFileSync(r.path, r.content);
    }
    const conf = readFileSync(data.config, "utf8");
    expect(conf).toMatch(new RegExp(`^listen on 127\\.0\\.0\\.1 port ${port} tls pki scan\\.example\\.org hostname scan\\.example\\.org filter "intake"$`, "m"));
    const tls = await startOpenSmtpd({ config: data.config, mailname: "scan.example.org", flags: ["-v"] });
    try {
      expect((await tls.check()).stderr).toMatch(/configuration OK/);
      const r = await swaks({ port, from: "alice@outside.example", to: ["bob@one.example"], message: "Subject: tls\n\nx\n", extra: ["-tls"] });
      expect(r.code, r.transcript).not.toBe(0);
      await waitFor("the handshake failure in smtpd's log", () => /missing private key/.test(tls.log()));
      figures.starttls = tls.log().match(/SSL_accept: (error:[^\n]*missing private key)/)?.[1];
    } finally {
      await tls.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
