// Fleet runs: plan every selected host, ask for confirmation, apply and
// verify. What is shown, and how the question is asked, is the caller's (the
// CLI); this module decides what runs, in which order, and what it found.
import type { HostConfig } from "../inventory/catalog.ts";
import { revealingResolver, type SecretResolver } from "../inventory/secrets.ts";
import { TransportSet } from "../transports/index.ts";
import { forEachHost, type HostOutcome } from "./fleet.ts";
import { applyHost, planHost, prepareHost, type ApplyResult, type HostTarget } from "./host.ts";
import type { HostPlan } from "./plan.ts";
import { platformOf } from "./roles.ts";

export interface FleetOptions {
  parallel: number;
  timeoutMs?: number;
  /** Where secret commands run: the inventory's directory. */
  secretsCwd: string;
  /** How long a secret command may run. */
  secretTimeoutMs?: number;
  /** Every host of the inventory (a hub's settings depend on the others). */
  fleet: readonly HostConfig[];
  onStart?(host: string): void;
}

export interface PlanRun {
  outcomes: HostOutcome<HostPlan>[];
  targets: Map<string, HostTarget>;
  secrets: SecretResolver;
  timeoutMs?: number;
}

/** Runs `fn` with the run's transports and closes their connections afterwards, also on Ctrl-C. */
export async function withTransports<T>(fn: (transports: TransportSet) => Promise<T>): Promise<T> {
  const transports = new TransportSet();
  const interrupted = () => {
    void transports.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    return await fn(transports);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await transports.close();
  }
}

/** Probes every host and diffs it against its desired state; a host that fails never stops the others. */
export async function planFleet(
  hosts: readonly HostConfig[],
  opts: FleetOptions & { onPlanned?(o: HostOutcome<HostPlan>): void },
  transports: TransportSet,
): Promise<PlanRun> {
  const secrets = revealingResolver({ cwd: opts.secretsCwd, timeoutMs: opts.secretTimeoutMs });
  const targets = new Map<string, HostTarget>();
  const outcomes = await forEachHost(
    hosts,
    opts.parallel,
    async (h) => {
      const t = prepareHost(h, transports.for(h, platformOf(h).become), secrets, opts.fleet);
      targets.set(h.name, t);
      return planHost(t, opts.timeoutMs);
    },
    opts.onPlanned,
    opts.onStart,
  );
  return { outcomes, targets, secrets, timeoutMs: opts.timeoutMs };
}

export interface ApplyRun {
  /** Hosts with changes, each applied and verified (or failed). */
  applied: HostOutcome<ApplyResult>[];
  /** Hosts whose plan failed, then whose apply failed. */
  failures: HostOutcome<unknown>[];
  /** Applied, but the verifying probe still found changes. */
  notConverged: HostOutcome<ApplyResult>[];
  /** Hosts with nothing to do. */
  unchanged: number;
}

export type Confirmation = "yes" | "no" | "needs --yes";

/**
 * Applies what `plan` found, after `confirm` agreed for the hosts with
 * changes (not asked when none has any). The plan's connections serve the apply.
 */
export async function applyFleet(
  plan: PlanRun,
  opts: {
    parallel: number;
    confirm(hostsWithChanges: number): Promise<Confirmation>;
    onStart?(host: string): void;
    onApplied?(o: HostOutcome<ApplyResult>): void;
  },
): Promise<ApplyRun | Exclude<Confirmation, "yes">> {
  const todo = plan.outcomes.filter((o) => o.ok && o.value && o.value.changes.length > 0);
  if (todo.length > 0) {
    const answer = await opts.confirm(todo.length);
    if (answer !== "yes") return answer;
  }
  const applied = await forEachHost(
    todo.map((o) => ({ name: o.host, plan: o.value! })),
    opts.parallel,
    (h) => applyHost(plan.targets.get(h.name)!, h.plan, plan.timeoutMs),
    opts.onApplied,
    opts.onStart,
  );
  const planFailures = plan.outcomes.filter((o) => !o.ok);
  return {
    applied,
    failures: [...planFailures, ...applied.filter((a) => !a.ok)],
    notConverged: applied.filter((a) => a.ok && a.value!.remaining.length > 0),
    unchanged: plan.outcomes.length - todo.length - planFailures.length,
  };
}
