// `mailfleet queue`: the fleet's MTA queues as a table, JSON, or a Prometheus
// textfile (for the node exporter's textfile collector); `queue flush|hold|release`.
import { CommanderError } from "commander";
import pc from "picocolors";
import { QUEUE_STATES, type QueueSummary } from "../../roles/types.ts";
import type { HostOutcome } from "../engine/fleet.ts";
import type { HostQueues, QueueActionResult } from "../engine/queue.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "30m", "1h", "2d" or whole seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!m) throw new CommanderError(1, "mailfleet.badOption", `--older-than needs a duration such as 90s, 30m, 1h or 2d, got '${text}'`);
  return Number(m[1]) * UNITS[m[2] || "s"]!;
}

export function formatAge(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(seconds / 86400)}d${String(Math.floor((seconds % 86400) / 3600)).padStart(2, "0")}h`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/** 0 every queue empty, 2 a message older than olderThan, 1 a host could not be read (as plan --detailed-exitcode). */
export function queueExitCode(outcomes: readonly HostOutcome<HostQueues>[], olderThan: number): number {
  if (outcomes.some((o) => !o.ok)) return 1;
  const old = outcomes.some((o) => o.value!.queues.some((q) => q.oldestSeconds !== null && q.oldestSeconds >= olderThan));
  return old ? 2 : 0;
}

interface Row {
  host: string;
  q: QueueSummary;
}

const rowsOf = (outcomes: readonly HostOutcome<HostQueues>[]): Row[] => outcomes.flatMap((o) => (o.value ? o.value.queues.map((q) => ({ host: o.host, q })) : []));

export function queueTable(outcomes: readonly HostOutcome<HostQueues>[], olderThan: number): string {
  const rows = rowsOf(outcomes);
  const head = ["host", "mta", ...QUEUE_STATES, "bytes", "oldest"];
  const cell = (n: number | null) => (n === null ? "-" : String(n));
  const body = rows.map(({ host, q }) => [host, q.title, ...QUEUE_STATES.map((s) => cell(q.counts[s])), formatBytes(q.bytes), formatAge(q.oldestSeconds)]);
  const sum = (s: (typeof QUEUE_STATES)[number]) => rows.reduce((n, r) => n + (r.q.counts[s] ?? 0), 0);
  const oldest = rows.reduce<number | null>((o, r) => (r.q.oldestSeconds === null ? o : Math.max(o ?? 0, r.q.oldestSeconds)), null);
  const fleet = ["fleet", `${rows.length} queue${rows.length === 1 ? "" : "s"}`, ...QUEUE_STATES.map((s) => String(sum(s))), formatBytes(rows.reduce((n, r) => n + r.q.bytes, 0)), formatAge(oldest)];
  const table = [head, ...body, fleet];
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const out = [pc.bold(line(head)), ...body.map((r, i) => (rows[i]!.q.oldestSeconds !== null && rows[i]!.q.oldestSeconds! >= olderThan ? pc.yellow(line(r)) : line(r))), pc.dim(line(fleet))];
  const errors = rows.flatMap(({ host, q }) => (q.lastErrors ?? []).map((e) => `  ${host} ${q.title} ${e.destination}: ${e.text}`));
  if (errors.length) out.push("", "last delivery error per destination:", ...errors);
  const unrecorded = rows.filter((r) => r.q.lastErrors === null && r.q.messages > 0);
  if (unrecorded.length) out.push("", pc.dim(`${[...new Set(unrecorded.map((r) => r.q.title))].join(", ")} keep${unrecorded.length === 1 ? "s" : ""} no record of why a delivery failed: see the host's mail log`));
  for (const o of outcomes) {
    if (o.value?.absent.length) out.push(pc.dim(`${o.host}: ${o.value.absent.join(", ")} not installed (no queue yet)`));
    if (!o.ok) out.push(pc.red(`${o.host}: ${o.error}${o.detail ? `\n${o.detail}` : ""}`));
  }
  return out.join("\n");
}

export function queueJson(outcomes: readonly HostOutcome<HostQueues>[], olderThan: number): string {
  return JSON.stringify(
    {
      olderThanSeconds: olderThan,
      hosts: outcomes.map((o) => (o.ok ? { host: o.host, ok: true, transport: o.value!.transport, queues: o.value!.queues, absent: o.value!.absent } : { host: o.host, ok: false, error: o.error, detail: o.detail })),
    },
    null,
    2,
  );
}

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** The Prometheus text exposition format (what node_exporter's textfile collector reads). */
export function queuePrometheus(outcomes: readonly HostOutcome<HostQueues>[]): string {
  const metrics: Record<string, { help: string; lines: string[] }> = {
    mailfleet_queue_up: { help: "1 when mailfleet could read the host's MTA queues, 0 when not.", lines: [] },
    mailfleet_queue_messages: { help: "Messages in an MTA's queue, by state (states the MTA does not tell apart are left out).", lines: [] },
    mailfleet_queue_bytes: { help: "Bytes of the messages in an MTA's queue.", lines: [] },
    mailfleet_queue_oldest_seconds: { help: "Age of the oldest message in an MTA's queue (0 when empty).", lines: [] },
  };
  for (const o of outcomes) {
    const h = `host="${label(o.host)}"`;
    metrics.mailfleet_queue_up!.lines.push(`mailfleet_queue_up{${h}} ${o.ok ? 1 : 0}`);
    for (const q of o.value?.queues ?? []) {
      const hm = `${h},mta="${label(q.mta)}"`;
      for (const s of QUEUE_STATES) if (q.counts[s] !== null) metrics.mailfleet_queue_messages!.lines.push(`mailfleet_queue_messages{${hm},state="${s}"} ${q.counts[s]}`);
      metrics.mailfleet_queue_bytes!.lines.push(`mailfleet_queue_bytes{${hm}} ${q.bytes}`);
      metrics.mailfleet_queue_oldest_seconds!.lines.push(`mailfleet_queue_oldest_seconds{${hm}} ${q.oldestSeconds ?? 0}`);
    }
  }
  return Object.entries(metrics)
    .map(([name, m]) => [`# HELP ${name} ${m.help}`, `# TYPE ${name} gauge`, ...m.lines].join("\n"))
    .join("\n");
}

export function queueActionReport(action: string, outcomes: readonly HostOutcome<QueueActionResult>[]): string {
  const verb = { flush: "asked to deliver now", hold: "held", release: "released" }[action] ?? action;
  return outcomes
    .map((o) => (o.ok ? `${o.host}: ${o.value!.done.join(", ")} ${verb}` : pc.red(`${o.host}: ${o.error}${o.detail ? `\n${o.detail}` : ""}`)))
    .join("\n");
}
