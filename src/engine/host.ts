// Probe and apply for one host: the only impure part of the engine, and it
// talks to the host through a transport only.
import type { HostConfig } from "../inventory/catalog.ts";
import type { SecretResolver } from "../inventory/secrets.ts";
import type { Change, HostContext, HostLockResource, PublicKeyFact, Resource } from "../resources/types.ts";
import type { Transport } from "../transports/types.ts";
import { desiredState, hostContextFor } from "./desired.ts";
import { diffHost, isNoop, makePlan, publicKeysOf, type HostPlan } from "./plan.ts";
import { applyScript, factsHash, parseApplyOutput, parseProbeOutput, probeScript } from "./scripts.ts";

export class HostError extends Error {
  override name = "HostError";
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface HostTarget {
  host: HostConfig;
  transport: Transport;
  ctx: HostContext;
  resources: Resource[];
}

/** mailfleet's own state on every host: what killed applies left of the host lock. */
export const HOST_LOCK: HostLockResource = { kind: "hostLock", id: "mailfleet:lock" };

/** A host, how to reach it, and what it must be: its desired state and the host lock's leftovers. */
export function hostTarget(host: HostConfig, transport: Transport, desired: readonly Resource[]): HostTarget {
  return { host, transport, ctx: hostContextFor(host, transport.root), resources: [HOST_LOCK, ...desired] };
}

export function prepareHost(host: HostConfig, transport: Transport, secrets: SecretResolver, fleet: readonly HostConfig[] = [host]): HostTarget {
  return hostTarget(host, transport, desiredState(host, secrets, fleet));
}

function lastLines(text: string, n = 6): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

/** A host holding things of the wrong type at managed paths is refused as a whole, before anything is written. */
export function refuseConflicts(host: string, changes: readonly Change[]): void {
  const conflicts = changes.flatMap((c) => (c.conflict ? [c.conflict] : []));
  if (conflicts.length === 0) return;
  const what = conflicts.length === 1 ? conflicts[0]! : `${conflicts.length} managed paths hold something mailfleet does not replace`;
  throw new HostError(`refused: ${what}; nothing was written on ${host}`, conflicts.length > 1 ? conflicts.join("\n") : undefined);
}

export async function planHost(t: HostTarget, timeoutMs?: number): Promise<HostPlan> {
  const r = await t.transport.run(probeScript(t.resources, t.ctx), { timeoutMs });
  const facts = parseProbeOutput(r.stdout);
  const hash = factsHash(r.stdout);
  if (r.code !== 0 || !facts || !hash) {
    throw new HostError(`probe failed on ${t.transport.description} (exit ${r.code})`, lastLines(r.stderr));
  }
  const changes = diffHost(t.resources, facts, t.ctx);
  refuseConflicts(t.host.name, changes);
  return makePlan(t.host.name, t.transport.description, t.ctx, changes, hash, publicKeysOf(t.resources, facts));
}

export interface ApplyResult {
  plan: HostPlan;
  /** Resource ids whose step ran. */
  applied: string[];
  /** What the verifying probe still finds different (empty when converged). */
  remaining: Change[];
  /** The public halves of the host's generated keys after the apply (the verifying probe's; the plan's when nothing was applied). */
  publicKeys?: PublicKeyFact[];
}

export async function applyHost(t: HostTarget, plan: HostPlan, timeoutMs?: number): Promise<ApplyResult> {
  if (plan.changes.length === 0) return { plan, applied: [], remaining: [], publicKeys: plan.publicKeys };
  const r = await t.transport.run(applyScript(t.resources, plan.changes, t.ctx, plan.facts), { timeoutMs });
  const out = parseApplyOutput(r.stdout);
  if (r.code === 75 && out.steps.length === 0) {
    throw new HostError(`locked: ${lastLines(r.stderr, 1).replace(/^mailfleet: /, "")}`);
  }
  if (out.stale && out.steps.length === 0) {
    throw new HostError(`stale plan: ${t.host.name} changed since the plan; nothing was written on it (plan again)`);
  }
  if (r.code !== 0 || !out.completed) {
    const failed = out.steps.at(-1);
    throw new HostError(
      `apply failed on ${t.transport.description}${failed ? ` at ${failed}` : ""} (exit ${r.code}); steps done before it: ${Math.max(0, out.steps.length - 1)}`,
      lastLines(r.stderr),
    );
  }
  if (!out.verifyFacts) throw new HostError(`apply on ${t.transport.description} returned no verification`, lastLines(r.stderr));
  const remaining = diffHost(t.resources, out.verifyFacts, t.ctx).filter((c) => !isNoop(c));
  return { plan, applied: out.steps, remaining, publicKeys: publicKeysOf(t.resources, out.verifyFacts) };
}
