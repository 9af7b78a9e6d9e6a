// OpenSMTPD's queue adapter (roles/opensmtpd/queue.ts) against the real
// OpenSMTPD 6.8 in its mount namespace: a switch from OpenSMTPD to Postfix and
// from Postfix to OpenSMTPD, composed by roles/lib/mta/handover.ts, loses no mail
// and duplicates none. Messages are queued in the old MTA while its relay is
// down (one with three recipients, one with the null sender), the handover
// runs through the engine inside the namespace (where smtpd's spool and
// smtpctl are), and every message is counted at a real SMTP sink behind the
// new MTA. Postfix is an instance of the unpacked package, visible inside.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mtaSwitch } from "../../roles/lib/mta/handover.ts";
import { opensmtpdPlatforms } from "../../roles/opensmtpd/platforms.ts";
import { opensmtpdQueue } from "../../roles/opensmtpd/queue.ts";
import { postfixQueue } from "../../roles/lib/postfix/queue.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import type { Platform } from "../../src/platforms/types.ts";
import type { MtaQueue } from "../../roles/lib/mta/types.ts";
import { code, sh } from "../../src/shell/builder.ts";
import type { Transport } from "../../src/transports/types.ts";
import { REPO } from "../support/cli.ts";
import { startOpenSmtpd, type OpenSmtpd } from "../support/opensmtpd.ts";
import {
  ensurePostfixAccounts,
  freePort,
  instanceData,
  instancePlatform,
  mainCfLines,
  POSTFIX_LIB,
  postfixInstance,
  type PostfixInstance,
} from "../support/postfix.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { waitFor } from "../support/wait.ts";

const OS = opensmtpdPlatforms.debian;
const host = parseInventory("hosts: { t1: { platform: debian, domain: example.org, roles: [nullmailer], relay: { host: 127.0.0.1 } } }", path.join(REPO, "test/e2e/inline.yaml")).hosts[0]!;
const cleanups: (() => Promise<unknown> | void)[] = [];

/** What the old MTA holds: a sender (empty: the null sender) and its recipients, per message. */
const MESSAGES = [
  { from: "cron@old.example.org", to: ["ops@example.org"] },
  { from: "backup@old.example.org", to: ["a@example.org", "b@example.org", "c@example.net"] },
  { from: "", to: ["bounced@example.org"] },
  { from: "apt@old.example.org", to: ["admin@example.org"] },
];

/** Scripts run inside OpenSMTPD's namespace under `shell`, with the unpacked Postfix's libraries found. */
const inside = (smtpd: OpenSmtpd, shell: string[]): Transport => ({
  description: `opensmtpd-namespace (${shell.join(" ")})`,
  root: "",
  run: (script) => smtpd.exec(shell[0]!, [...shell.slice(1), "-s"], { input: script, env: { LD_LIBRARY_PATH: POSTFIX_LIB } }),
});

/** SIGTERM to the smtpd processes of this mount namespace only (other tests on the machine may run smtpd too), then wait for them to go. */
const STOP_SMTPD = `mf_ns=$(readlink /proc/self/ns/mnt)
mf_smtpd() { for mf_p in /proc/[0-9]*; do [ "$(readlink "$mf_p/ns/mnt" 2>/dev/null)" = "$mf_ns" ] && [ "$(cat "$mf_p/comm" 2>/dev/null)" = smtpd ] && echo "\${mf_p#/proc/}"; done; }
set +f; for mf_p in $(mf_smtpd); do kill "$mf_p" 2>/dev/null; done
mf_n=0; while [ -n "$(mf_smtpd)" ] && [ $mf_n -lt 100 ]; do sleep 0.2; mf_n=$((mf_n + 1)); done; set -f`;

/** smtpd as the service opensmtpd: probed with smtpctl, stopped with SIGTERM (the test started it), its package reported installed. */
function withSmtpd(base: Platform): Platform {
  const is = (name: string) => name === OS.service || name === OS.package;
  return {
    ...base,
    packageProbe: (p) => (is(p) ? sh`echo installed 6.8.0p2-4+b4` : base.packageProbe(p)),
    serviceProbe: (s) => (is(s) ? sh`if ${OS.smtpctl} show status >/dev/null 2>&1; then echo running; else echo stopped; fi` : base.serviceProbe(s)),
    serviceStop: (s) => (is(s) ? code(STOP_SMTPD) : base.serviceStop(s)),
    serviceStart: (s) => (is(s) ? sh`echo "smtpd is started by the test" >&2; false` : base.serviceStart(s)),
  };
}

async function handOver(platform: Platform, transport: Transport, from: MtaQueue, to: Pick<MtaQueue, "mta" | "sendmail">, parking: string) {
  const { park: [park], deliver } = mtaSwitch(platform, to, [from], "switch");
  park!.parking = parking;
  deliver.parking = parking;
  const t: HostTarget = { host, transport, ctx: hostContext(platform, ""), resources: [park!, deliver] };
  const plan = await planHost(t);
  const started = Date.now();
  const result = await applyHost(t, plan).catch((e: Error & { detail?: string }) => {
    throw new Error(`${e.message}\n${e.detail ?? ""}`);
  });
  return { plan, result, ms: Date.now() - started };
}

/** The sink's transactions of this test, by Subject tag: sender and recipients as smtp-sink dumps them. */
function arrived(sink: SmtpSink, tag: string) {
  return sink
    .messages()
    .filter((m) => m.includes(`Subject: ${tag}-`))
    .map((m) => ({
      subject: /^Subject: (.*)$/m.exec(m)![1]!,
      from: /^X-Mail-Args: <([^>]*)>/m.exec(m)![1]!,
      to: [...m.matchAll(/^X-Rcpt-Args: <([^>]*)>/gm)].map((x) => x[1]!).sort(),
    }))
    .sort((a, b) => a.subject.localeCompare(b.subject));
}
const wanted = (tag: string) => MESSAGES.map((m, i) => ({ subject: `${tag}-${i}`, from: m.from, to: [...m.to].sort() }));

function postfixRelayingTo(name: string, relayPort: number): PostfixInstance {
  const pf = postfixInstance(name);
  writeFileSync(
    path.join(pf.conf, "main.cf"),
    `${mainCfLines({ compatibility_level: "3.6", myhostname: `${name}.example.org`, mydestination: "", inet_interfaces: "loopback-only", alias_maps: "", relayhost: `[127.0.0.1]:${relayPort}`, ...pf.settings })}\n`,
  );
  pf.writeMasterCf();
  cleanups.push(() => pf.stop());
  return pf;
}

async function opensmtpdRelayingTo(relayPort: number): Promise<OpenSmtpd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-smtpd-queue-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "smtpd.conf"), `action "out" relay host smtp://127.0.0.1:${relayPort}\nmatch from local for any action "out"\n`);
  const smtpd = await startOpenSmtpd({ config: path.join(dir, "smtpd.conf"), mailname: "old.example.org", ports: [] });
  cleanups.push(() => smtpd.close());
  return smtpd;
}

beforeAll(async () => {
  process.env.LD_LIBRARY_PATH = POSTFIX_LIB;
  await ensurePostfixAccounts();
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 120_000);

describe("OpenSMTPD's queue in an MTA switch", () => {
  it("OpenSMTPD -> Postfix: what OpenSMTPD holds is parked, delivered through Postfix and counted once at the far end", async () => {
    const down = await freePort();
    const smtpd = await opensmtpdRelayingTo(down);
    for (const [i, m] of MESSAGES.entries()) {
      const r = await smtpd.sendmail(["-i", "-f", m.from || "<>", "--", ...m.to], `Subject: to-postfix-${i}\nFrom: someone@old.example.org\n\nqueued in OpenSMTPD while its relay was down\n`);
      expect(r.code, r.stderr).toBe(0);
    }
    await waitFor("every envelope deferred", async () => {
      const q = await smtpd.queue();
      return q.length === 6 && q.every((e) => e.retries >= 1);
    }, 60_000);
    const q = opensmtpdQueue(OS);
    expect((await smtpd.exec("sh", ["-c", `${q.functions.sh}\n${q.count.sh.replace('"$R"', "")}`])).stdout.trim()).toBe("4");

    const sink = await startSmtpSink();
    cleanups.push(() => sink.stop());
    const pf = postfixRelayingTo("new-postfix", sink.port);
    await pf.start();
    const parking = mkdtempSync(path.join(os.tmpdir(), "mf-parking-"));
    cleanups.push(() => rmSync(parking, { recursive: true, force: true }));
    const platform = withSmtpd(instancePlatform(pf));
    const { plan, result, ms } = await handOver(platform, inside(smtpd, ["/usr/bin/ksh93"]), q, { mta: "postfix", sendmail: [instanceData(pf).sendmail, "-C", pf.conf] }, parking);
    expect(plan.changes.map((c) => c.id)).toEqual(["switch:replace-opensmtpd", "switch:deliver-parked"]);
    expect(plan.changes[0]!.summary).toMatch(/^flush OpenSMTPD's queue and park the 4 messages it keeps in /);
    // the package stays on this machine (on a Debian host installing Postfix removes it): the verify still offers to stop it
    expect(result.remaining.map((c) => c.id)).toEqual(["switch:replace-opensmtpd", "switch:deliver-parked"]);
    expect(result.remaining[0]!.summary).toMatch(/^stop OpenSMTPD \(its queue is empty\)/);

    await waitFor("4 messages at the far end", () => arrived(sink, "to-postfix").length === 4, 60_000);
    console.info(`OpenSMTPD -> Postfix: 4 messages (6 recipients) parked and counted at smtp-sink; the handover took ${ms} ms`);
    expect(arrived(sink, "to-postfix")).toEqual(wanted("to-postfix"));
    expect((await smtpd.queue()).length).toBe(0);
    expect(readdirSync(parking)).toEqual([]);
  }, 180_000);

  it("Postfix -> OpenSMTPD: Postfix's deferred mail is parked and delivered through OpenSMTPD's sendmail, each message once", async () => {
    const down = await freePort();
    const pf = postfixRelayingTo("old-postfix", down);
    await pf.start();
    for (const [i, m] of MESSAGES.entries()) {
      const code = await pf.sendmail(["-i", "-f", m.from, "--", ...m.to], `Subject: to-opensmtpd-${i}\n\nqueued in Postfix while its relay was down\n`);
      expect(code).toBe(0);
    }
    await waitFor("4 deferred messages in Postfix", () => (pf.log().match(/status=deferred/g) ?? []).length >= 6, 60_000);

    const sink = await startSmtpSink();
    cleanups.push(() => sink.stop());
    const smtpd = await opensmtpdRelayingTo(sink.port);
    const parking = mkdtempSync(path.join(os.tmpdir(), "mf-parking-"));
    cleanups.push(() => rmSync(parking, { recursive: true, force: true }));
    const platform = withSmtpd(instancePlatform(pf));
    const { plan, result, ms } = await handOver(platform, inside(smtpd, ["busybox", "sh"]), postfixQueue(instanceData(pf)), opensmtpdQueue(OS), parking);
    expect(plan.changes.map((c) => c.id)).toEqual(["switch:replace-postfix", "switch:deliver-parked"]);
    expect(plan.changes[0]!.summary).toMatch(/park the 4 messages/);
    expect(result.remaining).toEqual([]);

    await waitFor("4 messages at the far end", () => arrived(sink, "to-opensmtpd").length === 4, 60_000);
    console.info(`Postfix -> OpenSMTPD: 4 messages (6 recipients) parked and counted at smtp-sink; the handover took ${ms} ms`);
    expect(arrived(sink, "to-opensmtpd")).toEqual(wanted("to-opensmtpd"));
    expect(pf.queued()).toEqual([]);
    expect(readdirSync(parking)).toEqual([]);
    await waitFor("OpenSMTPD's queue empty", async () => (await smtpd.queue()).length === 0);
  }, 180_000);
});
