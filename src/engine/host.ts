// Probe and apply for one host: the only impure part of the engine, and it
// talks to the host through a transport only.
import type { HostConfig } from "../inventory/catalog.ts";
import type { SecretResolver } from "../inventory/secrets.ts";
import type { Change, HostContext, Resource } from "../resources/types.ts";
import type { Transport } from "../transports/types.ts";
import { desiredState, hostContextFor } from "./desired.ts";
import { diffHost, isNoop, makePlan, type HostPlan } from "./plan.ts";
import { applyScript, parseApplyOutput, parseProbeOutput, probeScript } from "./scripts.ts";

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

export function prepareHost(host: HostConfig, transport: Transport, secrets: SecretResolver, fleet: readonly HostConfig[] = [host]): HostTarget {
  return { host, transport, ctx: hostContextFor(host, transport.root), resources: desiredState(host, secrets, fleet) };
}

function lastLines(text: string, n = 6): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

export async function planHost(t: HostTarget, timeoutMs?: number): Promise<HostPlan> {
  const r = await t.transport.run(probeScript(t.resources, t.ctx), { timeoutMs });
  const facts = parseProbeOutput(r.stdout);
  if (r.code !== 0 || !facts) {
    throw new HostError(`probe failed on ${t.transport.description} (exit ${r.code})`, lastLines(r.stderr));
  }
  return makePlan(t.host.name, t.transport.description, t.ctx, diffHost(t.resources, facts, t.ctx));
}

export interface ApplyResult {
  plan: HostPlan;
  /** Resource ids whose step ran. */
  applied: string[];
  /** What the verifying probe still finds different (empty when converged). */
  remaining: Change[];
}

export async function applyHost(t: HostTarget, plan: HostPlan, timeoutMs?: number): Promise<ApplyResult> {
  if (plan.changes.length === 0) return { plan, applied: [], remaining: [] };
  const r = await t.transport.run(applyScript(t.resources, plan.changes, t.ctx), { timeoutMs });
  const out = parseApplyOutput(r.stdout);
  if (r.code === 75 && out.steps.length === 0) {
    throw new HostError(`locked: ${lastLines(r.stderr, 1).replace(/^mailfleet: /, "")}`);
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
  return { plan, applied: out.steps, remaining };
}
