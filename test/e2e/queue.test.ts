// `mailfleet queue` against the real MTAs, each with its relay down: Postfix
// (an instance of the unpacked 3.7 package), OpenSMTPD 6.8 (in its mount
// namespace) and the machine's nullmailer 2.2 (configured by `mailfleet
// apply`, read through the command). Each figure is compared with the MTA's
// own tool in the same test (postqueue -j, smtpctl show queue, the spool
// directory); hold and release are checked the same way; flush, once the
// relay is back, delivers every message once, counted at the far end.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opensmtpdPlatforms } from "../../roles/opensmtpd/platforms.ts";
import { opensmtpdQueue } from "../../roles/opensmtpd/queue.ts";
import { postfixQueue } from "../../roles/lib/postfix/queue.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { queueAction, queueTarget, readHostQueues } from "../../src/engine/queue.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import type { Transport } from "../../src/transports/types.ts";
import { mailfleet, REPO } from "../support/cli.ts";
import { everyStep } from "../support/cleanup.ts";
import { acquireMachineLock } from "../support/machine-lock.ts";
import { applyHere, SPOOL, takeMachineNullmailer, type MachineNullmailer } from "../support/machine-nullmailer.ts";
import { startOpenSmtpd } from "../support/opensmtpd.ts";
import { ensurePostfixAccounts, freePort, instanceData, mainCfLines, POSTFIX_LIB, postfixInstance, postfixTool } from "../support/postfix.ts";
import { startSmtpSink } from "../support/smtp-sink.ts";
import { waitFor } from "../support/wait.ts";

const host = parseInventory("hosts: { q1: { platform: debian, domain: example.org, roles: [postfix-satellite], relay: { host: 127.0.0.1 } } }", path.join(REPO, "test/e2e/inline.yaml")).hosts[0]!;
const cleanups: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  process.env.LD_LIBRARY_PATH = POSTFIX_LIB;
  await ensurePostfixAccounts();
}, 120_000);

// every step runs even when one fails: a daemon that would not stop must not leave the next one running
afterAll(() => everyStep(cleanups.reverse()), 120_000);

describe("mailfleet queue", () => {
  it("Postfix: counts, bytes, age and the last error per destination as postqueue -j shows them; hold, release, and flush once the relay is back", async () => {
    const relay = await freePort();
    const pf = postfixInstance("queue-postfix");
    cleanups.push(() => pf.stop());
    writeFileSync(
      path.join(pf.conf, "main.cf"),
      `${mainCfLines({ compatibility_level: "3.6", myhostname: "q1.example.org", mydestination: "", inet_interfaces: "loopback-only", alias_maps: "", relayhost: `[127.0.0.1]:${relay}`, ...pf.settings })}\n`,
    );
    pf.writeMasterCf();
    await pf.start();
    const to = [["ops@example.org"], ["a@example.org", "b@example.net"], ["c@example.net"]];
    for (const [i, rcpts] of to.entries()) expect(await pf.sendmail(["-i", "-f", "cron@q1.example.org", "--", ...rcpts], `Subject: queue-${i}\n\nqueued while the relay is down\n`)).toBe(0);
    await waitFor("4 recipients deferred", () => (pf.log().match(/status=deferred/g) ?? []).length >= 4, 60_000);

    const t = queueTarget(host, new LocalTransport(), [postfixQueue(instanceData(pf))]);
    const own = async () =>
      (await postfixTool("postqueue", ["-c", pf.conf, "-j"])).stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { queue_name: string; message_size: number; arrival_time: number });
    const [q] = (await readHostQueues(t)).queues;
    const theirs = await own();
    expect(theirs).toHaveLength(3);
    expect(q!.counts).toEqual({ queued: 0, deferred: 3, held: 0, failed: null });
    expect(q!.bytes).toBe(theirs.reduce((n, m) => n + m.message_size, 0));
    expect(q!.oldestSeconds).toBeGreaterThanOrEqual(0);
    expect(q!.lastErrors!.map((e) => e.destination)).toEqual(["example.net", "example.org"]);
    expect(q!.lastErrors![0]!.text).toMatch(/Connection refused/);

    await queueAction(t, "hold");
    expect((await own()).map((m) => m.queue_name)).toEqual(["hold", "hold", "hold"]);
    expect((await readHostQueues(t)).queues[0]!.counts).toEqual({ queued: 0, deferred: 0, held: 3, failed: null });
    await queueAction(t, "release");
    expect((await own()).every((m) => m.queue_name !== "hold")).toBe(true);
    expect((await readHostQueues(t)).queues[0]!.counts.held).toBe(0);

    const sink = await startSmtpSink({ port: relay });
    cleanups.push(() => sink.stop());
    await queueAction(t, "flush");
    await waitFor("3 messages at the relay", () => sink.messages().length >= 3, 60_000);
    await waitFor("Postfix's queue empty", async () => (await own()).length === 0, 60_000);
    const subjects = sink.messages().map((m) => /^Subject: (.*)$/m.exec(m)![1]).sort();
    expect(subjects).toEqual(["queue-0", "queue-1", "queue-2"]);
    expect((await readHostQueues(t)).queues[0]!.messages).toBe(0);
  }, 180_000);

  it("OpenSMTPD: as smtpctl show queue shows it (a message once, whatever its recipients); hold and release pause and resume it; flush delivers", async () => {
    const relay = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-queue-smtpd-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, "smtpd.conf"), `action "out" relay host smtp://127.0.0.1:${relay}\nmatch from local for any action "out"\n`);
    const smtpd = await startOpenSmtpd({ config: path.join(dir, "smtpd.conf"), mailname: "q1.example.org", ports: [] });
    cleanups.push(() => smtpd.close());
    const to = [["ops@example.org"], ["a@example.org", "b@example.net", "c@example.net"]];
    for (const [i, rcpts] of to.entries()) expect((await smtpd.sendmail(["-i", "-f", "cron@q1.example.org", "--", ...rcpts], `Subject: queue-${i}\n\nqueued while the relay is down\n`)).code).toBe(0);
    await waitFor("every envelope tried once", async () => {
      const q = await smtpd.queue();
      return q.length === 4 && q.every((e) => e.retries >= 1);
    }, 60_000);

    const inside: Transport = { description: "opensmtpd-namespace", root: "", run: (script) => smtpd.exec("sh", ["-s"], { input: script }) };
    const t = queueTarget(host, inside, [opensmtpdQueue(opensmtpdPlatforms.debian)]);
    const [q] = (await readHostQueues(t)).queues;
    expect(new Set((await smtpd.queue()).map((e) => e.id.slice(0, 8))).size).toBe(2);
    expect(q!.counts).toEqual({ queued: 0, deferred: 2, held: 0, failed: null });
    expect(q!.bytes).toBeGreaterThan(2 * "queued while the relay is down\n".length);
    expect(q!.lastErrors!.map((e) => e.destination)).toEqual(["example.net", "example.org"]);

    await queueAction(t, "hold");
    expect((await smtpd.queue()).every((e) => e.fields[3]!.split(",").includes("suspend"))).toBe(true);
    expect((await readHostQueues(t)).queues[0]!.counts.held).toBe(2);
    await queueAction(t, "release");
    expect((await smtpd.queue()).some((e) => e.fields[3]!.includes("suspend"))).toBe(false);

    const sink = await startSmtpSink({ port: relay });
    cleanups.push(() => sink.stop());
    await queueAction(t, "flush");
    await waitFor("OpenSMTPD's queue empty", async () => (await smtpd.queue()).length === 0, 60_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${JSON.stringify(await smtpd.queue())}\n${smtpd.log().slice(-3000)}`);
    });
    expect(sink.messages().map((m) => /^Subject: (.*)$/m.exec(m)![1]).sort()).toEqual(["queue-0", "queue-1"]);
    expect((await readHostQueues(t)).queues[0]!.messages).toBe(0);
  }, 180_000);

  describe("nullmailer on this machine, through the command", () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-queue-nm-"));
    chmodSync(tmp, 0o755);
    const inventory = path.join(tmp, "inventory.yaml");
    let release: (() => void) | undefined;
    let machine: MachineNullmailer | undefined;
    let relay = 0;

    beforeAll(async () => {
      release = await acquireMachineLock();
      machine = await takeMachineNullmailer();
      relay = await freePort();
      writeFileSync(
        inventory,
        `hosts:\n  zone1:\n    platform: debian\n    roles: [nullmailer]\n    domain: example.test\n    adminaddr: postmaster@example.test\n    relay: { host: 127.0.0.1, port: ${relay} }\n    transport: { type: local }\n`,
      );
      const r = await applyHere(inventory);
      expect(r.code, r.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
      try {
        await machine?.restore();
      } finally {
        rmSync(tmp, { recursive: true, force: true });
        release?.();
      }
    }, 120_000);

    it("--json, --prometheus and --detailed-exitcode show what the spool holds; hold is refused, saying why; flush delivers each message once", async () => {
      const before = readdirSync(`${SPOOL}/queue`).length;
      for (let i = 0; i < 5; i++) {
        await execa("/usr/sbin/sendmail", ["-f", "cron@zone1.example.test", "ops@example.test"], { input: `Subject: nm-queue-${i}\n\nqueued while the relay is down\n` });
      }
      const inSpool = readdirSync(`${SPOOL}/queue`).length;
      expect(inSpool).toBe(before + 5);

      const json = await mailfleet(["queue", "--json", "-i", inventory]);
      expect(json.code, json.stderr).toBe(0);
      const doc = JSON.parse(json.stdout) as { hosts: { host: string; ok: boolean; queues: { mta: string; counts: Record<string, number | null>; messages: number; lastErrors: unknown }[] }[] };
      expect(doc.hosts[0]!.queues[0]).toMatchObject({ mta: "nullmailer", counts: { queued: inSpool, deferred: null, held: null, failed: 0 }, messages: inSpool, lastErrors: null });

      const prom = await mailfleet(["queue", "--prometheus", "-i", inventory]);
      expect(prom.stdout).toContain(`mailfleet_queue_messages{host="zone1",mta="nullmailer",state="queued"} ${inSpool}`);
      expect(prom.stdout).toContain('mailfleet_queue_up{host="zone1"} 1');
      expect(prom.stdout).toMatch(/^# TYPE mailfleet_queue_oldest_seconds gauge$/m);

      // nothing is a day old; everything is at least 0 s old
      expect((await mailfleet(["queue", "--detailed-exitcode", "--older-than", "1d", "-i", inventory])).code).toBe(0);
      const old = await mailfleet(["queue", "--detailed-exitcode", "--older-than", "0s", "-i", inventory]);
      expect(old.code).toBe(2);
      expect(old.stdout).toMatch(/^zone1\s+nullmailer\s+\d+\s+-\s+-\s+0\s/m);

      const hold = await mailfleet(["queue", "hold", "-i", inventory]);
      expect(hold.code).toBe(1);
      expect(hold.stdout).toContain("zone1: refused: nullmailer cannot hold its queue (it has no hold); nothing was asked on zone1");

      const sink = await startSmtpSink({ port: relay });
      cleanups.push(() => sink.stop());
      const flush = await mailfleet(["queue", "flush", "-i", inventory]);
      expect(flush.code, flush.stdout + flush.stderr).toBe(0);
      expect(flush.stdout).toContain("zone1: nullmailer asked to deliver now");
      await waitFor("5 messages at the relay", () => sink.messages().filter((m) => m.includes("Subject: nm-queue-")).length >= 5, 60_000);
      await waitFor("the spool empty", () => readdirSync(`${SPOOL}/queue`).length === before, 60_000);
      expect(sink.messages().flatMap((m) => /^Subject: (nm-queue-\d)$/m.exec(m)?.[1] ?? []).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `nm-queue-${i}`));
    }, 180_000);
  });
});
