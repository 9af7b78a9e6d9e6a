// Fleet runs: plan every selected host, ask for confirmation, apply and
// verify. What is shown, and how the question is asked, is the caller's (the
// CLI); this module decides what runs, in which order, and what it found.
import type { HostConfig } from "../inventory/catalog.ts";
import { maskingResolver, revealingResolver, type SecretResolver } from "../inventory/secrets.ts";
import type { Resource } from "../resources/types.ts";
import { TransportSet } from "../transports/index.ts";
import { desiredState } from "./desired.ts";
import { desiredFingerprint } from "./fingerprint.ts";
import { forEachHost, type HostOutcome } from "./fleet.ts";
import { applyHost, hostTarget, planHost, type ApplyResult, type HostTarget } from "./host.ts";
import type { HostPlan } from "./plan.ts";
import { platformOf } from "./roles.ts";
import { hostPlanOf, PlanFileError, type SavedPlan } from "./saved-plan.ts";

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

/**
 * The desired state of one host or more cannot be built (a resource claimed
 * twice, a secret that cannot be read, ...): as Terraform with an invalid
 * configuration, nothing runs on any host.
 */
export class DesiredStateRefusal extends Error {
  override name = "DesiredStateRefusal";
  constructor(
    /** "host: why", one per host. */
    readonly problems: string[],
    /** The same, as host and why. */
    readonly hosts: { host: string; message: string }[] = [],
  ) {
    super(`the desired state of ${problems.length} host${problems.length === 1 ? "" : "s"} cannot be built; nothing was changed on any host`);
  }
}

/** Every host's desired state, before any host is probed; DesiredStateRefusal naming every host that has none. */
export function desiredStates(hosts: readonly HostConfig[], secrets: SecretResolver, fleet: readonly HostConfig[]): Map<string, Resource[]> {
  const out = new Map<string, Resource[]>();
  const problems: { host: string; message: string }[] = [];
  for (const h of hosts) {
    try {
      out.set(h.name, desiredState(h, secrets, fleet));
    } catch (e) {
      const message = (e as Error).message;
      problems.push({ host: h.name, message: message.startsWith(`${h.name}: `) ? message.slice(h.name.length + 2) : message });
    }
  }
  if (problems.length) throw new DesiredStateRefusal(problems.map((p) => `${p.host}: ${p.message}`), problems);
  return out;
}

/** Hash of each host's desired state with secrets masked (what a saved plan records). */
export function desiredHashes(hosts: readonly HostConfig[], fleet: readonly HostConfig[]): Map<string, string> {
  const masked = desiredStates(hosts, maskingResolver, fleet);
  return new Map(hosts.map((h) => [h.name, desiredFingerprint(h, masked.get(h.name)!)]));
}

function target(h: HostConfig, resources: Resource[], transports: TransportSet): HostTarget {
  return hostTarget(h, transports.for(h, platformOf(h).become), resources);
}

/**
 * Probes every host and diffs it against its desired state; a host that fails
 * never stops the others. The desired states are all built first: when one
 * cannot be, no host is probed (DesiredStateRefusal).
 */
export async function planFleet(
  hosts: readonly HostConfig[],
  opts: FleetOptions & { onPlanned?(o: HostOutcome<HostPlan>): void },
  transports: TransportSet,
): Promise<PlanRun> {
  const secrets = revealingResolver({ cwd: opts.secretsCwd, timeoutMs: opts.secretTimeoutMs });
  const desired = desiredStates(hosts, secrets, opts.fleet);
  const targets = new Map<string, HostTarget>();
  const outcomes = await forEachHost(
    hosts,
    opts.parallel,
    async (h) => {
      const t = target(h, desired.get(h.name)!, transports);
      targets.set(h.name, t);
      return planHost(t, opts.timeoutMs);
    },
    opts.onPlanned,
    opts.onStart,
  );
  return { outcomes, targets, secrets, timeoutMs: opts.timeoutMs };
}

/**
 * A saved plan as a PlanRun for applyFleet: its hosts and changes, applied to
 * the desired state built now (secrets read now), which must be the one
 * planned (the same hash), for every host with changes, or nothing runs.
 * Each host's apply script then checks on the host that its facts are the
 * planned ones.
 */
export function savedPlanRun(
  doc: SavedPlan,
  file: string,
  inventoryHosts: readonly HostConfig[],
  opts: { secretsCwd: string; secretTimeoutMs?: number; timeoutMs?: number },
  transports: TransportSet,
): PlanRun {
  const byName = new Map(inventoryHosts.map((h) => [h.name, h]));
  const withChanges = doc.hosts.filter((h) => h.changes.length > 0).map((h) => byName.get(h.host)!);
  const now = desiredHashes(withChanges, inventoryHosts);
  const changed = doc.hosts.filter((h) => h.changes.length > 0 && now.get(h.host) !== h.desired_sha256).map((h) => h.host);
  if (changed.length) {
    throw new PlanFileError(`refusing ${file}: the desired state of ${changed.join(", ")} is not the one planned; nothing was changed: plan again`);
  }
  const secrets = revealingResolver({ cwd: opts.secretsCwd, timeoutMs: opts.secretTimeoutMs });
  const desired = desiredStates(withChanges, secrets, inventoryHosts);
  const targets = new Map<string, HostTarget>();
  for (const h of withChanges) targets.set(h.name, target(h, desired.get(h.name)!, transports));
  const outcomes = doc.hosts.map((h) => ({
    host: h.host,
    ok: true,
    value: hostPlanOf(h, targets.get(h.host)?.transport.description ?? h.transport),
  }));
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
