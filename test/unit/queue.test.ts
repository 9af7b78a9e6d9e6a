// Reading each MTA's queue (what its tool prints, as the real daemons printed
// it in test/e2e/queue.test.ts) and the command's outputs.
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { parsePostqueueJson } from "../../roles/lib/postfix/queue.ts";
import { summarise } from "../../roles/lib/mta/queue-status.ts";
import { parseNullmailerStatus } from "../../roles/nullmailer/queue.ts";
import { parseSmtpctlQueue } from "../../roles/opensmtpd/queue.ts";
import { parseDuration, queueExitCode, queuePrometheus, queueTable } from "../../src/cli/queue.ts";
import type { HostOutcome } from "../../src/engine/fleet.ts";
import type { HostQueues } from "../../src/engine/queue.ts";

const NOW = 1_796_300_000;

describe("reading a queue", () => {
  it("nullmailer: queue/ and failed/ as ls -ln lists them, arrival from the file name; no deferred, no errors recorded", () => {
    const text = `@dir queue
total 8
-rw------- 1 8 8 1234 Dec  3 11:00 1796299000.4242
-rw-------    1 8        8              99 Dec  3 11:01 1796299100.77
@dir failed
total 4
-rw------- 1 8 8 500 Dec  2 09:00 1796200000.1
drwx------ 2 8 8 4096 Dec  2 09:00 strange-dir`;
    const m = parseNullmailerStatus(text);
    expect(m).toEqual([
      { state: "queued", bytes: 1234, arrived: 1796299000, errors: [] },
      { state: "queued", bytes: 99, arrived: 1796299100, errors: [] },
      { state: "failed", bytes: 500, arrived: 1796200000, errors: [] },
    ]);
    const s = summarise({ mta: "nullmailer", title: "nullmailer", knows: { states: ["queued", "failed"], errors: false } }, m, NOW);
    expect(s).toMatchObject({ counts: { queued: 2, deferred: null, held: null, failed: 1 }, messages: 3, bytes: 1833, oldestSeconds: NOW - 1796200000, lastErrors: null });
  });

  it("Postfix: postqueue -j, the last error per destination from the newest message", () => {
    const text = [
      JSON.stringify({ queue_name: "deferred", queue_id: "A", arrival_time: 100, message_size: 300, recipients: [{ address: "a@Example.ORG", delay_reason: "connect to 127.0.0.1[127.0.0.1]:1: Connection refused" }] }),
      JSON.stringify({ queue_name: "hold", queue_id: "B", arrival_time: 200, message_size: 400, recipients: [{ address: "b@example.org", delay_reason: "later" }, { address: "c@example.net" }] }),
      JSON.stringify({ queue_name: "active", queue_id: "C", arrival_time: 300, message_size: 1, recipients: [] }),
      "postqueue: warning: Mail system is down -- accessing queue directly",
    ].join("\n");
    const s = summarise({ mta: "postfix", title: "Postfix", knows: { states: ["queued", "deferred", "held"], errors: true } }, parsePostqueueJson(text), 1000);
    expect(s.counts).toEqual({ queued: 1, deferred: 1, held: 1, failed: null });
    expect(s.bytes).toBe(701);
    expect(s.oldestSeconds).toBe(900);
    expect(s.lastErrors).toEqual([{ destination: "example.org", text: "later" }]);
  });

  it("OpenSMTPD: a message once however many envelopes; held when suspended, deferred when tried; sizes from the spool; offline submissions counted", () => {
    const text = `@envelopes
4e4004ed12b0f744|local|mta|auth|cron@q1.example.org|b@example.net|b@example.net|1796299134|1796299134|0|2|pending|1528|Network error on destination MXs
4e4004ed70ed733c|local|mta|auth|cron@q1.example.org|a@example.org|a@example.org|1796299134|1796299134|0|2|pending|1528|Network error on destination MXs
240273e040dc71b2|local|mta|auth,suspend|cron@q1.example.org|ops@example.org|ops@example.org|1796299100|1796299134|0|0|pending|1528|
@sizes
-rw------- 1 0 0 310 Dec  3 11:00 /var/spool/smtpd/queue/4e/4e4004ed/message
-rw------- 1 0 0 333 Dec  3 11:00 /var/spool/smtpd/queue/24/240273e0/message
@offline
-rw------- 1 0 0 50 Dec  3 11:00 0.abcdef`;
    const m = parseSmtpctlQueue(text);
    expect(m.map((x) => [x.state, x.bytes])).toEqual([
      ["deferred", 310],
      ["held", 333],
      ["queued", 50],
    ]);
    const s = summarise({ mta: "opensmtpd", title: "OpenSMTPD", knows: { states: ["queued", "deferred", "held"], errors: true } }, m, 1796299200);
    expect(s.oldestSeconds).toBe(100);
    expect(s.lastErrors).toEqual([
      { destination: "example.net", text: "Network error on destination MXs" },
      { destination: "example.org", text: "Network error on destination MXs" },
    ]);
  });
});

describe("the command's outputs", () => {
  const outcomes: HostOutcome<HostQueues>[] = [
    {
      host: "web1",
      ok: true,
      value: {
        host: "web1",
        transport: "local",
        absent: [],
        queues: [{ mta: "nullmailer", title: "nullmailer", counts: { queued: 3, deferred: null, held: null, failed: 0 }, messages: 3, bytes: 3000, oldestSeconds: 7200, lastErrors: null }],
      },
    },
    { host: 'odd"host', ok: false, error: "probe failed" },
  ];

  it("--detailed-exitcode: 1 when a host failed, else 2 for a message older than --older-than, else 0", () => {
    expect(queueExitCode(outcomes, 3600)).toBe(1);
    expect(queueExitCode([outcomes[0]!], 3600)).toBe(2);
    expect(queueExitCode([outcomes[0]!], 7201)).toBe(0);
  });

  it("Prometheus text format: gauges with HELP and TYPE, labels escaped, states the MTA does not know left out", () => {
    const text = queuePrometheus(outcomes);
    expect(text).toContain("# TYPE mailfleet_queue_messages gauge");
    expect(text).toContain('mailfleet_queue_messages{host="web1",mta="nullmailer",state="queued"} 3');
    expect(text).not.toContain('state="deferred"');
    expect(text).toContain('mailfleet_queue_oldest_seconds{host="web1",mta="nullmailer"} 7200');
    expect(text).toContain('mailfleet_queue_up{host="odd\\"host"} 0');
  });

  it("the table: a row per queue, the fleet's sums, the failure named", () => {
    const t = stripVTControlCharacters(queueTable(outcomes, 3600));
    expect(t).toMatch(/^web1\s+nullmailer\s+3\s+-\s+-\s+0\s+2\.9 KiB\s+2h00m$/m);
    expect(t).toMatch(/^fleet\s+1 queue\s+3\s+0\s+0\s+0\s+2\.9 KiB\s+2h00m$/m);
    expect(t).toContain('odd"host: probe failed');
    expect(t).toContain("nullmailer keeps no record of why a delivery failed");
  });

  it("--older-than takes 90s, 30m, 1h, 2d or seconds, and says what it takes otherwise", () => {
    expect([parseDuration("90s"), parseDuration("30m"), parseDuration("1h"), parseDuration("2d"), parseDuration("45")]).toEqual([90, 1800, 3600, 172800, 45]);
    expect(() => parseDuration("1 hour")).toThrow(/--older-than needs a duration such as 90s, 30m, 1h or 2d, got '1 hour'/);
  });
});
