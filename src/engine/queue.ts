// Where the fleet's mail is: each host's MTA queues, read by one remote
// command per host through the queue every MTA role describes (MtaQueue), and
// the operator's actions on them (flush, hold, release). Nothing here knows
// an MTA: the roles print and parse their own queues.
import { summarise, type MtaQueue, type QueueSummary } from "../../roles/types.ts";
import type { HostConfig } from "../inventory/catalog.ts";
import { sh, join, code } from "../shell/builder.ts";
import { prelude } from "../shell/prelude.ts";
import type { HostContext } from "../resources/types.ts";
import type { Transport } from "../transports/types.ts";
import { hostContextFor } from "./desired.ts";
import { forEachHost, type HostOutcome } from "./fleet.ts";
import { HostError } from "./host.ts";
import { roleDataFor, roleNamed } from "./roles.ts";

export type QueueAction = "flush" | "hold" | "release";

/** The queues of a host's MTA roles, one per MTA software (postfix-hub and a satellite share Postfix's). */
export function mtaQueuesOf(host: HostConfig): MtaQueue[] {
  const out = new Map<string, MtaQueue>();
  for (const role of host.roles.map(roleNamed)) {
    const q = role.queue?.(roleDataFor(role, host.platform));
    if (q && !out.has(q.mta)) out.set(q.mta, q);
  }
  return [...out.values()];
}

export interface QueueTarget {
  host: HostConfig;
  transport: Transport;
  ctx: HostContext;
  queues: readonly MtaQueue[];
}

export function queueTarget(host: HostConfig, transport: Transport, queues: readonly MtaQueue[] = mtaQueuesOf(host)): QueueTarget {
  return { host, transport, ctx: hostContextFor(host, transport.root), queues };
}

export interface HostQueues {
  host: string;
  transport: string;
  /** The MTA queues that are there. */
  queues: QueueSummary[];
  /** MTAs the inventory gives the host whose queue is not there (not installed yet). */
  absent: string[];
}

const MARK = "@@mf-queue";

function script(t: QueueTarget, each: (q: MtaQueue) => ReturnType<typeof sh>): string {
  const parts = t.queues.map((q) => sh`echo ${`${MARK} ${q.mta}`}
if ${q.present}; then
${each(q)}
else echo ${`${MARK}-absent`}; fi`);
  const functions = [...new Set(t.queues.map((q) => q.functions.sh))].map(code);
  return `${join([prelude(t.ctx.root, t.ctx.platform), ...functions, code(`echo "${MARK}-now $(date +%s)"`), ...parts, code(`echo ${MARK}-end`)]).sh}\n`;
}

function sections(stdout: string, description: string, exit: number, stderr: string): { now: number; byMta: Map<string, string[]> } {
  const lines = stdout.split("\n");
  const now = Number(lines.find((l) => l.startsWith(`${MARK}-now `))?.slice(MARK.length + 5));
  if (!lines.includes(`${MARK}-end`) || !Number.isFinite(now)) {
    throw new HostError(`reading the queue failed on ${description} (exit ${exit})`, stderr.trim().split("\n").slice(-6).join("\n"));
  }
  const byMta = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.startsWith(`${MARK} `)) byMta.set(line.slice(MARK.length + 1), (current = []));
    else if (line === `${MARK}-end`) current = undefined;
    else current?.push(line);
  }
  return { now, byMta };
}

/** Every MTA queue of one host, in one remote command. */
export async function readHostQueues(t: QueueTarget, timeoutMs?: number): Promise<HostQueues> {
  const r = await t.transport.run(script(t, (q) => q.status), { timeoutMs });
  const { now, byMta } = sections(r.stdout, t.transport.description, r.code, r.stderr);
  const queues: QueueSummary[] = [];
  const absent: string[] = [];
  for (const q of t.queues) {
    const lines = byMta.get(q.mta) ?? [`${MARK}-absent`];
    if (lines.includes(`${MARK}-absent`)) absent.push(q.title);
    else queues.push(summarise(q, q.parseStatus(lines.join("\n")), now));
  }
  return { host: t.host.name, transport: t.transport.description, queues, absent };
}

export interface QueueActionResult {
  host: string;
  /** MTAs that were asked. */
  done: string[];
}

/** Asks every MTA queue of one host to flush, hold or release; refused, naming it, where an MTA cannot. */
export async function queueAction(t: QueueTarget, action: QueueAction, timeoutMs?: number): Promise<QueueActionResult> {
  const cannot = t.queues.filter((q) => action !== "flush" && !q[action]);
  if (cannot.length) {
    throw new HostError(`refused: ${cannot.map((q) => q.title).join(" and ")} cannot ${action} ${action === "hold" ? "its queue" : "held mail"} (it has no hold); nothing was asked on ${t.host.name}`);
  }
  if (t.queues.length === 0) return { host: t.host.name, done: [] };
  const r = await t.transport.run(
    script(t, (q) => sh`if ${action === "flush" ? q.flush : q[action]!}; then echo ${`${MARK}-done`}; else echo ${`${MARK}-failed`}; fi`),
    { timeoutMs },
  );
  const { byMta } = sections(r.stdout, t.transport.description, r.code, r.stderr);
  const done: string[] = [];
  const failed: string[] = [];
  for (const q of t.queues) {
    const lines = byMta.get(q.mta) ?? [];
    if (lines.includes(`${MARK}-done`)) done.push(q.title);
    else failed.push(`${q.title} ${lines.includes(`${MARK}-absent`) ? "is not installed" : `did not ${action}`}`);
  }
  if (failed.length) throw new HostError(`${action}: ${failed.join("; ")} on ${t.host.name}`, r.stderr.trim().split("\n").slice(-6).join("\n") || undefined);
  return { host: t.host.name, done };
}

export interface FleetQueueOptions {
  parallel: number;
  timeoutMs?: number;
  onStart?(host: string): void;
}

/** `each` on every selected host that has an MTA role, its queues looked up once; the others are not contacted. */
function forEachMtaHost<T>(hosts: readonly HostConfig[], opts: FleetQueueOptions, transportOf: (h: HostConfig) => Transport, each: (t: QueueTarget) => Promise<T>): Promise<HostOutcome<T>[]> {
  const targets = new Map<string, MtaQueue[]>();
  for (const h of hosts) {
    const queues = mtaQueuesOf(h);
    if (queues.length > 0) targets.set(h.name, queues);
  }
  const withMta = hosts.filter((h) => targets.has(h.name));
  return forEachHost(withMta, opts.parallel, (h) => each(queueTarget(h, transportOf(h), targets.get(h.name))), undefined, opts.onStart);
}

/** Each selected host's queues (hosts without an MTA role are not contacted). */
export function readFleetQueues(hosts: readonly HostConfig[], opts: FleetQueueOptions, transportOf: (h: HostConfig) => Transport): Promise<HostOutcome<HostQueues>[]> {
  return forEachMtaHost(hosts, opts, transportOf, (t) => readHostQueues(t, opts.timeoutMs));
}

/** The action on each selected host that has an MTA role. */
export function fleetQueueAction(
  hosts: readonly HostConfig[],
  action: QueueAction,
  opts: FleetQueueOptions,
  transportOf: (h: HostConfig) => Transport,
): Promise<HostOutcome<QueueActionResult>[]> {
  return forEachMtaHost(hosts, opts, transportOf, (t) => queueAction(t, action, opts.timeoutMs));
}
