// Postfix as the scanning MX (the Debian shape of the scan host): the
// postfix-hub role attaches the milter the rspamd role on the same host offers
// (rspamd's proxy worker, from the local.d files the role writes), so every
// message from outside is scanned in the SMTP session. Against the real
// Postfix 3.7, rspamd 3.4 and Dovecot 2.3, the client outside the fleet in its
// own network namespace: GTUBE is refused at the end of DATA (554 5.7.1) and
// never stored; with rspamd stopped the sender is told to come back (451 4.7.1)
// and nothing is stored; rspamd back, the same message is taken once; STARTTLS
// is offered on 25 with the hub's certificate.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rspamdPlatforms } from "../../roles/rspamd/platforms.ts";
import { rspamd as rspamdRole } from "../../roles/rspamd/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost } from "../../src/engine/host.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { everyStep } from "../support/cleanup.ts";
import { maildirMessages } from "../support/dovecot.ts";
import { testHub, type TestHub } from "../support/hub.ts";
import { outsideNetwork, type OutsideNetwork } from "../support/netns.ts";
import { swaks, type SwaksResult } from "../support/opensmtpd.ts";
import { freePort, waitFor } from "../support/postfix.ts";
import { RSPAMD_STOCK_CONF, startRspamd, type Rspamd } from "../support/rspamd.ts";

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const OFFLINE = "[rbl, fuzzy_check, asn, phishing, neural, replies, url_redirector, history_redis, greylist, ratelimit, spf, dkim, dmarc]";

const work = mkdtempSync(path.join(os.tmpdir(), "mf-hub-milter-"));
chmodSync(work, 0o755);
const inventory = path.join(work, "inventory.yaml");
const localConfDir = path.join(work, "etc-rspamd");
let th: TestHub;
let outside: OutsideNetwork;
let rspamd: Rspamd | undefined;
let milterPort: number;
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
  mkdirSync(path.join(work, "secrets"));
  writeFileSync(path.join(work, "secrets", "bob"), "bob's pass\n", { mode: 0o600 });
  writeFileSync(
    inventory,
    `defaults: { domain: example.org, adminaddr: bob@one.example }
hosts:
  mx:
    platform: debian
    roles: [rspamd, postfix-hub, dovecot]
    address: 127.0.0.1
    rspamd: { milter: "127.0.0.1:${milterPort}", disable: ${OFFLINE} }
    hub:
      port: ${th.port}
      interfaces: [127.0.0.1, ${outside.host.v4}]
      tls: ${th.yaml.tls}
      mainCf: { ${th.yaml.instance} }
    dovecot:
      tls: ${th.yaml.tls}
    mail:
      owner: ${th.yaml.owner}
      base: ${th.yaml.base}
      domains:
        one.example:
          users: { bob: { password: { file: ${path.join(work, "secrets", "bob")} } } }
          aliases: { postmaster: bob }
`,
  );
  hosts = parseInventory(readFileSync(inventory, "utf8"), inventory).hosts;
  // rspamd's files as its role writes them (into a LOCAL_CONFDIR here), rspamd started from them by the test
  const host = hosts[0]!;
  const data = { ...rspamdPlatforms.debian, confDir: RSPAMD_STOCK_CONF, localConfDir };
  const resources = roleResources(rspamdRole, host, { platform: debian, data, secrets: maskingResolver, fleet: hosts }).filter((r) => r.kind !== "package" && r.kind !== "service");
  const t = { host, transport: new LocalTransport(), ctx: hostContext(debian, ""), resources };
  expect((await applyHost(t, await planHost(t))).remaining).toEqual([]);
  chmodSync(localConfDir, 0o755);
  rspamd = await startScanner();
  await th.apply(th.target(host, hosts));
  await th.startDovecot();
}, 300_000);

afterAll(() => everyStep([() => rspamd?.close(), () => th?.close(), () => outside?.close(), () => rmSync(work, { recursive: true, force: true })]), 120_000);

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
    expect(th.postfix.queued()).toEqual([]);
  }, 120_000);

  it("with rspamd stopped the sender is told to try again (451 4.7.1) and nothing is stored; rspamd back, the same message is taken once", async () => {
    await rspamd!.close();
    rspamd = undefined;
    const m = message("sent while the scanner is down");
    const down = await send(m.text);
    expect(down.dataReply ?? down.replies.find((x) => /^4\d\d /.test(x)), down.transcript).toMatch(/^451 4\.7\.1 /);
    expect(th.postfix.queued()).toEqual([]);
    expect(stored(m.marker)).toEqual([]);
    rspamd = await startScanner();
    const again = await send(m.text);
    expect(again.dataReply, again.transcript).toMatch(/^250 /);
    await waitFor("the resent message stored", () => stored(m.marker).length === 1, 60_000);
    expect(stored(m.marker)).toHaveLength(1);
  }, 300_000);
});
