// Postfix as the scanning MX (the Debian shape of the scan host): the
// postfix-hub role attaches the milter the rspamd role on the same host offers
// (rspamd's proxy worker, from the local.d files the role writes), so every
// message from outside is scanned in the SMTP session. Against the real
// Postfix 3.7, rspamd 3.4 and Dovecot 2.3, the client outside the fleet in its
// own network namespace: GTUBE is refused at the end of DATA (554 5.7.1) and
// never stored; with rspamd stopped the sender is told to come back (451 4.7.1)
// and nothing is stored; rspamd back, the same message is taken once; STARTTLS
// is offered on 25 with the hub's certificate. Mail bob sends out through
// submission is DKIM-signed by rspamd with the keys the rspamd role generated
// on the host (RSA 2048 and Ed25519), and each signature verifies (dkimpy,
// Debian's python3-dkim) against the record the plan publishes; a header
// changed in transit fails it.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rspamdPlatforms } from "../../roles/rspamd/platforms.ts";
import { rspamd as rspamdRole } from "../../roles/rspamd/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost } from "../../src/engine/host.ts";
import type { HostConfig } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { everyStep } from "../support/cleanup.ts";
import { maildirMessages } from "../support/dovecot.ts";
import { testHub, type TestHub } from "../support/hub.ts";
import { mailDomains, saveInventory } from "../support/inventory.ts";
import { outsideNetwork, type OutsideNetwork } from "../support/netns.ts";
import { swaks, type SwaksResult } from "../support/opensmtpd.ts";
import { freePort } from "../support/postfix.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { waitFor } from "../support/wait.ts";
import { RSPAMD_STOCK_CONF, RSPAMD_USER, startRspamd, type Rspamd } from "../support/rspamd.ts";

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const OFFLINE = ["rbl", "fuzzy_check", "asn", "phishing", "neural", "replies", "url_redirector", "history_redis", "greylist", "ratelimit", "spf", "dkim", "dmarc"];

const work = mkdtempSync(path.join(os.tmpdir(), "mf-hub-milter-"));
chmodSync(work, 0o755);
const inventory = path.join(work, "inventory.yaml");
const localConfDir = path.join(work, "etc-rspamd");
let th: TestHub;
let outside: OutsideNetwork;
let rspamd: Rspamd | undefined;
let milterPort: number;
let submissionPort: number;
let sink: SmtpSink;
/** The DKIM records the plan of the rspamd role's resources published (public_keys), by DNS name. */
const records = new Map<string, string>();
let hosts: HostConfig[];

const maildir = () => path.join(th.data, "vmail", "one.example", "bob", "Maildir");
const stored = (marker: string) => maildirMessages(maildir()).filter((m) => m.raw.includes(marker));

let serial = 0;
function message(body: string) {
  const marker = `milter-${Date.now()}-${++serial}`;
  return { marker, text: `From: someone@outside.test\nTo: bob@one.example\nSubject: ${marker}\nMessage-Id: <${marker}@test.invalid>\nDate: ${new Date().toUTCString()}\n\n${marker}\n${body}\n` };
}

const send = (text: string, extra: string[] = []): Promise<SwaksResult> =>
  swaks({ via: outside, server: outside.host.v4, port: th.port, from: "someone@outside.test", to: ["bob@one.example"], message: text, extra });

const startScanner = () => startRspamd({ localConfDir, ports: { proxy: milterPort }, waitForHyperscan: true });

beforeAll(async () => {
  outside = await outsideNetwork({ v4: "10.79.0", v6: "fd79:0:0:0" });
  th = await testHub("hubm", "mx.example.org");
  milterPort = await freePort();
  submissionPort = await freePort();
  sink = await startSmtpSink();
  mkdirSync(path.join(work, "secrets"));
  writeFileSync(path.join(work, "secrets", "bob@one.example"), "bob's pass\n", { mode: 0o600 });
  const f = th.fragments;
  hosts = saveInventory(inventory, {
    defaults: { domain: "example.org", adminaddr: "bob@one.example" },
    hosts: {
      mx: {
        platform: "debian",
        roles: ["rspamd", "postfix-hub", "dovecot"],
        address: "127.0.0.1",
        rspamd: { milter: `127.0.0.1:${milterPort}`, disable: OFFLINE, dkim: { selector: "s2026", ed25519: true } },
        hub: {
          port: th.port,
          interfaces: ["127.0.0.1", outside.host.v4],
          tls: f.tls,
          submission: { port: submissionPort },
          // mail to outside domains leaves through the smarthost (smtp-sink), where it is read
          mainCf: { ...f.instance, relayhost: `[127.0.0.1]:${sink.port}` },
        },
        dovecot: { tls: f.tls },
        mail: { owner: f.owner, base: f.base, domains: mailDomains(path.join(work, "secrets"), { "one.example": { users: ["bob"], aliases: { postmaster: "bob" } } }) },
      },
    },
  });
  // rspamd's files as its role writes them (into a LOCAL_CONFDIR here), rspamd started from them by the test
  const host = hosts[0]!;
  // the keys where the test's unprivileged rspamd may read them
  const data = { ...rspamdPlatforms.debian, confDir: RSPAMD_STOCK_CONF, localConfDir, dkimDir: path.join(work, "dkim"), group: RSPAMD_USER.group };
  const resources = roleResources(rspamdRole, host, { platform: debian, data, secrets: maskingResolver, fleet: hosts }).filter((r) => r.kind !== "package" && r.kind !== "service");
  const t = { host, transport: new LocalTransport(), ctx: hostContext(debian, ""), resources };
  const applied = await applyHost(t, await planHost(t));
  expect(applied.remaining).toEqual([]);
  for (const k of applied.publicKeys ?? []) records.set(/TXT record: (\S+)$/.exec(k.description)![1]!, k.public!);
  chmodSync(localConfDir, 0o755);
  chmodSync(work, 0o755);
  rspamd = await startScanner();
  await th.apply(th.target(host, hosts));
  await th.startDovecot();
}, 300_000);

afterAll(() => everyStep([() => rspamd?.close(), () => th?.close(), () => sink?.stop(), () => outside?.close(), () => rmSync(work, { recursive: true, force: true })]), 120_000);

describe("Postfix as the scanning MX, rspamd as its milter", () => {
  it("main.cf attaches the milter the rspamd role offers on the host, failing closed; rspamd's proxy worker runs in milter mode", () => {
    const cf = readFileSync(path.join(th.postfix.conf, "main.cf"), "utf8");
    expect(cf).toMatch(new RegExp(`^smtpd_milters = inet:127\\.0\\.0\\.1:${milterPort}$`, "m"));
    expect(cf).toMatch(/^milter_default_action = tempfail$/m);
    expect(readFileSync(path.join(localConfDir, "local.d/worker-proxy.inc"), "utf8")).toMatch(/^milter = yes;$/m);
  });

  it("offers STARTTLS on port 25 to the outsider", async () => {
    const m = message("hello over TLS");
    const r = await send(m.text, ["--tls"]);
    expect(r.transcript).toMatch(/STARTTLS/);
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("the message in bob's Maildir", () => stored(m.marker).length === 1, 60_000);
  }, 120_000);

  it("refuses GTUBE at the end of DATA with 554 5.7.1, and stores nothing", async () => {
    const m = message(GTUBE);
    const r = await send(m.text);
    expect(r.dataReply, r.transcript).toMatch(/^554 5\.7\.1 /);
    const clean = message("not spam");
    expect((await send(clean.text)).dataReply).toMatch(/^250 /);
    await waitFor("the clean message stored", () => stored(clean.marker).length === 1, 60_000);
    expect(stored(m.marker)).toEqual([]);
    // the clean message's queue file goes a moment after it is stored
    await waitFor("Postfix's queue empty", () => th.postfix.queued().length === 0, 60_000);
  }, 120_000);

  it("with rspamd stopped the sender is told to try again (451 4.7.1) and nothing is stored; rspamd back, the same message is taken once", async () => {
    await rspamd!.close();
    rspamd = undefined;
    const m = message("sent while the scanner is down");
    const down = await send(m.text);
    expect(down.dataReply ?? down.replies.find((x) => /^4\d\d /.test(x)), down.transcript).toMatch(/^451 4\.7\.1 /);
    await waitFor("Postfix's queue empty", () => th.postfix.queued().length === 0, 60_000);
    expect(stored(m.marker)).toEqual([]);
    rspamd = await startScanner();
    const again = await send(m.text);
    expect(again.dataReply, again.transcript).toMatch(/^250 /);
    await waitFor("the resent message stored", () => stored(m.marker).length === 1, 60_000);
    expect(stored(m.marker)).toHaveLength(1);
  }, 300_000);

  it("signs what bob sends out through submission with both keys generated on the host; each signature verifies against the published record, and fails once a header is changed", async () => {
    expect([...records.keys()].sort()).toEqual(["s2026._domainkey.one.example", "s2026e._domainkey.one.example"]);
    expect(records.get("s2026._domainkey.one.example")).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    expect(records.get("s2026e._domainkey.one.example")).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]{44}$/);
    const marker = `dkim-${Date.now()}`;
    const text = `From: bob@one.example\nTo: someone@outside.test\nSubject: ${marker}\nMessage-Id: <${marker}@one.example>\nDate: ${new Date().toUTCString()}\n\nsigned on its way out\n`;
    const r = await swaks({
      via: outside,
      server: outside.host.v4,
      port: submissionPort,
      from: "bob@one.example",
      to: ["someone@outside.test"],
      message: text,
      extra: ["--tls", "--auth", "PLAIN", "--auth-user", "bob@one.example", "--auth-password", "bob's pass"],
    });
    expect(r.dataReply, r.transcript).toMatch(/^250 /);
    await waitFor("the message at the smarthost", () => sink.messages().some((m) => m.includes(marker)), 60_000);
    const dump = sink.messages().find((m) => m.includes(marker))!;
    // smtp-sink's dump: its X-* envelope lines first, then the message as received
    const received = dump.slice(dump.search(/^(?!X-(?:Client|Helo|Mail|Rcpt)-)[\w-]+:/m));
    expect(received).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=one\.example;\s+s=s2026;/m);
    expect(received).toMatch(/^DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed\/relaxed; d=one\.example;\s+s=s2026e;/m);
    const verify = async (message: string) =>
      (
        await execa("/usr/bin/python3", ["-c", DKIM_VERIFY], { input: JSON.stringify({ message, records: Object.fromEntries(records) }) })
      ).stdout.trim();
    expect(await verify(received)).toBe("True True");
    // the private halves: readable to rspamd's group only, and nowhere in what the plan published
    for (const f of readdirSync(path.join(work, "dkim"))) {
      expect(statSync(path.join(work, "dkim", f)).mode & 0o777).toBe(0o640);
      const secret = readFileSync(path.join(work, "dkim", f), "utf8").trim();
      expect([...records.values()].some((v) => v.includes(secret))).toBe(false);
    }
    expect(await verify(received.replace(`Subject: ${marker}`, `Subject: ${marker} changed`))).toBe("False False");
  }, 120_000);
});

/** Verifies every DKIM-Signature of the message on stdin with dkimpy, its DNS answered from the records given. */
const DKIM_VERIFY = `
import dkim, json, sys
d = json.load(sys.stdin)
msg = d["message"].replace("\\r\\n", "\\n").replace("\\n", "\\r\\n").encode()
def dns(name, timeout=5):
    return d["records"].get(name.decode().rstrip("."), "").encode()
v = dkim.DKIM(msg)
n = len([l for l in msg.split(b"\\r\\n") if l.lower().startswith(b"dkim-signature:")])
print(" ".join(str(v.verify(idx=i, dnsfunc=dns)) for i in range(n)))
`;
