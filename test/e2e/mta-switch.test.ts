// Switching MTAs loses no mail, both ways. Messages are queued in the old MTA
// while its relay is down, the handover (park, then deliver through the new
// MTA's sendmail) runs through the engine, and every message is counted at a
// real SMTP sink behind the new MTA. nullmailer is this machine's (Debian's
// package, its service, /etc/nullmailer, /var/spool/nullmailer: hence the
// machine lock); Postfix is an instance of the unpacked package.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { Platform } from "../../src/platforms/types.ts";
import type { MtaQueue } from "../../roles/lib/mta/types.ts";
import { mtaSwitch } from "../../roles/lib/mta/handover.ts";
import { nullmailerPlatforms } from "../../roles/nullmailer/platforms.ts";
import { nullmailerQueue as nullmailerMtaQueue } from "../../roles/nullmailer/queue.ts";
import { postfixQueue } from "../../roles/lib/postfix/queue.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { REPO } from "../support/cli.ts";
import { acquireMachineLock } from "../support/machine-lock.ts";
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

const N = 5;
const NM_CONF = "/etc/nullmailer";
const NM_QUEUE = "/var/spool/nullmailer/queue";
let release: () => void;
let savedConf: string;
let nullmailerWasRunning = false;
const cleanups: (() => Promise<void> | void)[] = [];

const host = parseInventory(
  "hosts: { t1: { platform: debian, domain: example.org, roles: [postfix-satellite], relay: { host: 127.0.0.1 } } }",
  path.join(REPO, "test/e2e/inline.yaml"),
).hosts[0]!;

async function sh(script: string): Promise<string> {
  const r = await execa("/bin/sh", ["-c", script], { reject: false });
  return `${r.stdout}${r.stderr}`;
}

async function nullmailer(remotes: string): Promise<void> {
  writeFileSync(`${NM_CONF}/remotes`, `${remotes}\n`, { mode: 0o600 });
  await sh("chown mail:mail /etc/nullmailer/remotes; service nullmailer stop >/dev/null 2>&1; service nullmailer start </dev/null >/dev/null 2>&1");
}

const nullmailerQueue = () => readdirSync(NM_QUEUE);

function tagged(sink: SmtpSink, tag: string): string[] {
  return sink.messages().filter((m) => m.includes(`Subject: ${tag}-`));
}

/** Runs park + deliver for `from` through the engine, as the roles place them (nothing in between here). */
async function switchMta(platform: Platform, from: MtaQueue, newSendmail: string[], shell: string) {
  const parking = mkdtempSync(path.join(os.tmpdir(), "mf-parking-"));
  cleanups.push(() => rmSync(parking, { recursive: true, force: true }));
  const { park: [park], deliver } = mtaSwitch(platform, { mta: from.mta === "postfix" ? "nullmailer" : "postfix", sendmail: newSendmail }, [from], "switch");
  park!.parking = parking;
  deliver.parking = parking;
  process.env.MAILFLEET_LOCAL_SHELL = shell;
  const t: HostTarget = { host, transport: new LocalTransport(), ctx: hostContext(platform, ""), resources: [park!, deliver] };
  const plan = await planHost(t);
  const started = Date.now();
  const result = await applyHost(t, plan).catch((e: Error & { detail?: string }) => {
    throw new Error(`${e.message}\n${e.detail ?? ""}`);
  });
  return { plan, result, parking, started };
}

beforeAll(async () => {
  process.env.LD_LIBRARY_PATH = POSTFIX_LIB;
  await ensurePostfixAccounts();
  release = await acquireMachineLock();
  savedConf = mkdtempSync(path.join(os.tmpdir(), "mf-nullmailer-conf-"));
  cpSync(NM_CONF, savedConf, { recursive: true, preserveTimestamps: true });
  nullmailerWasRunning = (await execa("service", ["nullmailer", "status"], { reject: false })).exitCode === 0;
}, 15 * 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  delete process.env.MAILFLEET_LOCAL_SHELL;
  if (savedConf) {
    // put the files back into the directory as it is (its mode and owner stay)
    for (const f of readdirSync(NM_CONF)) if (!existsSync(path.join(savedConf, f))) rmSync(path.join(NM_CONF, f));
    for (const f of readdirSync(savedConf)) cpSync(path.join(savedConf, f), path.join(NM_CONF, f), { preserveTimestamps: true });
    await sh("chown mail:mail /etc/nullmailer/remotes");
    rmSync(savedConf, { recursive: true, force: true });
    await sh(`service nullmailer ${nullmailerWasRunning ? "restart" : "stop"} </dev/null >/dev/null 2>&1`);
  }
  release?.();
});

function postfixWithRelay(name: string, relayPort: number): PostfixInstance {
  const pf = postfixInstance(name);
  writeFileSync(
    path.join(pf.conf, "main.cf"),
    `${mainCfLines({
      compatibility_level: "3.6",
      myhostname: `${name}.example.org`,
      mydestination: "",
      inet_interfaces: "loopback-only",
      alias_maps: "",
      relayhost: `[127.0.0.1]:${relayPort}`,
      ...pf.settings,
    })}\n`,
  );
  pf.writeMasterCf();
  cleanups.push(() => pf.stop());
  return pf;
}

describe("switching MTAs without losing mail", () => {
  it(`nullmailer -> Postfix: ${N} messages queued in nullmailer reach the far end through Postfix`, async () => {
    const down = await freePort();
    await nullmailer(`127.0.0.1 smtp --port=${down}`);
    for (let i = 1; i <= N; i++) {
      const r = await execa("/usr/sbin/sendmail", ["-f", `cron-${i}@old.example.org`, "--", `ops-${i}@example.org`], {
        input: `Subject: to-postfix-${i}\nFrom: cron-${i}@old.example.org\n\nqueued in nullmailer while the relay was down\n`,
        reject: false,
      });
      expect(r.exitCode).toBe(0);
    }
    await waitFor(`${N} messages in nullmailer's queue`, () => nullmailerQueue().length >= N);

    const sink = await startSmtpSink();
    cleanups.push(() => sink.stop());
    const pf = postfixWithRelay("new-postfix", sink.port);
    await pf.start();
    const platform = instancePlatform(pf);

    const { plan, result, parking, started } = await switchMta(platform, nullmailerMtaQueue(nullmailerPlatforms.debian), [instanceData(pf).sendmail, "-C", pf.conf], "/usr/bin/ksh93");
    expect(plan.changes.map((c) => c.id)).toEqual(["switch:replace-nullmailer", "switch:deliver-parked"]);
    expect(plan.changes[0]!.summary).toMatch(new RegExp(`park the ${N} messages`));
    // nullmailer stays installed on this machine (on a Debian host installing Postfix removes it),
    // so the verifying probe still offers to stop it, and to deliver what that would park: nothing is queued
    expect(result.remaining.map((c) => c.summary)).toEqual([
      expect.stringMatching(/^stop nullmailer \(its queue is empty\)/),
      expect.stringMatching(/^deliver what switch:replace-nullmailer parks/),
    ]);

    const ms = await waitFor(`${N} messages at the far end`, () => tagged(sink, "to-postfix").length === N);
    console.log(`nullmailer -> Postfix: ${N} queued, ${tagged(sink, "to-postfix").length} counted at smtp-sink, ${Date.now() - started} ms after the handover began (${ms} ms after it ended)`);
    expect(nullmailerQueue()).toEqual([]);
    expect(readdirSync(parking)).toEqual([]);
    for (let i = 1; i <= N; i++) {
      const m = tagged(sink, "to-postfix").find((x) => x.includes(`Subject: to-postfix-${i}\n`))!;
      expect(m).toMatch(new RegExp(`^X-Mail-Args: <cron-${i}@old\\.example\\.org>`, "m"));
      expect(m).toMatch(new RegExp(`^X-Rcpt-Args: <ops-${i}@example\\.org>`, "m"));
    }
  });

  it(`Postfix -> nullmailer: ${N} messages deferred in Postfix reach the far end through nullmailer`, async () => {
    const down = await freePort();
    const pf = postfixWithRelay("old-postfix", down);
    await pf.start();
    for (let i = 1; i <= N; i++) {
      const code = await pf.sendmail(["-i", "-f", `apt-${i}@old.example.org`, "--", `admin-${i}@example.org`], `Subject: to-nullmailer-${i}\n\nqueued in Postfix while the relay was down\n`);
      expect(code).toBe(0);
    }
    await waitFor(`${N} deferred messages in Postfix`, () => (pf.log().match(/status=deferred/g) ?? []).length >= N);
    expect(pf.queued()).toHaveLength(N);

    const sink = await startSmtpSink();
    cleanups.push(() => sink.stop());
    await nullmailer(`127.0.0.1 smtp --port=${sink.port}`);
    const platform = instancePlatform(pf);

    const { plan, result, parking, started } = await switchMta(platform, postfixQueue(instanceData(pf)), [nullmailerPlatforms.debian.sendmail], "busybox sh");
    expect(plan.changes.map((c) => c.id)).toEqual(["switch:replace-postfix", "switch:deliver-parked"]);
    expect(plan.changes[0]!.summary).toMatch(new RegExp(`flush Postfix's queue and park the ${N} messages`));
    expect(result.remaining).toEqual([]);

    const ms = await waitFor(`${N} messages at the far end`, () => tagged(sink, "to-nullmailer").length === N);
    console.log(`Postfix -> nullmailer: ${N} queued, ${tagged(sink, "to-nullmailer").length} counted at smtp-sink, ${Date.now() - started} ms after the handover began (${ms} ms after it ended)`);
    expect(pf.queued()).toEqual([]);
    expect(readdirSync(parking)).toEqual([]);
    for (let i = 1; i <= N; i++) {
      const m = tagged(sink, "to-nullmailer").find((x) => x.includes(`Subject: to-nullmailer-${i}\n`))!;
      expect(m).toMatch(new RegExp(`^X-Mail-Args: <apt-${i}@old\\.example\\.org>`, "m"));
      expect(m).toMatch(new RegExp(`^X-Rcpt-Args: <admin-${i}@example\\.org>`, "m"));
    }
  });
});

describe("parked mail", () => {
  it("stays parked when the new MTA does not accept it", async () => {
    const parking = mkdtempSync(path.join(os.tmpdir(), "mf-parking-"));
    cleanups.push(() => rmSync(parking, { recursive: true, force: true }));
    writeFileSync(path.join(parking, "nullmailer.1700000000.1"), "root@old.example.org\nops@example.org\n\nSubject: kept\n\nbody\n");
    process.env.MAILFLEET_LOCAL_SHELL = "/usr/bin/dash";
    const platform = debian;
    const t: HostTarget = {
      host,
      transport: new LocalTransport(),
      ctx: hostContext(platform, ""),
      resources: [{ kind: "parkedMail", id: "switch:deliver-parked", parking, inputs: [], sendmail: ["/bin/false"] }],
    };
    const plan = await planHost(t);
    expect(plan.changes.map((c) => c.summary)).toEqual([`deliver the 1 message parked in ${parking} through /bin/false`]);
    await expect(applyHost(t, plan)).rejects.toThrow(/apply failed/);
    expect(readdirSync(parking)).toEqual(["nullmailer.1700000000.1"]);
  });
});
