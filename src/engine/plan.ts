import { handlerFor } from "../resources/index.ts";
import type { Change, HostContext, PublicKeyFact, Resource } from "../resources/types.ts";

export interface HostPlan {
  host: string;
  transport: string;
  platform: string;
  /** SHA-256 of the facts the probe saw (see scripts.ts factsHash): the apply goes ahead only while the host still shows them. */
  facts: string;
  /** Changes to make, in order. */
  changes: Change[];
  /** Steps that do not apply here (packages and services in a sandbox), listed so nothing is silently faked. */
  skipped: Change[];
  /** What is left alone on purpose (mailboxes no longer in the inventory), listed so nothing is silently forgotten. */
  kept: Change[];
  /** The public halves of the keys generated on the host, as the probe found them (`plan --json` hosts[].public_keys); not in a saved plan. */
  publicKeys?: PublicKeyFact[];
}

/** Changes that are not work to do: skipped ones and kept ones. */
export const isNoop = (c: Change): boolean => c.action === "skip" || c.action === "keep";

/** Pure: desired resources + probed facts -> the changes, in resource order. */
export function diffHost(resources: readonly Resource[], facts: Map<string, string[]>, ctx: HostContext): Change[] {
  const changed = new Set<string>();
  const out: Change[] = [];
  for (const r of resources) {
    const change = handlerFor(r).diff(r, facts.get(r.id) ?? [], ctx, changed);
    if (!change) continue;
    if (!isNoop(change)) changed.add(r.id);
    out.push(change);
  }
  return out;
}

/** Pure: what the resources that publish a public half (generated keys) found, in resource order. */
export function publicKeysOf(resources: readonly Resource[], facts: Map<string, string[]>): PublicKeyFact[] {
  return resources.flatMap((r) => {
    const publish = handlerFor(r).publicKey;
    return publish ? [publish(r, facts.get(r.id) ?? [])] : [];
  });
}

export function makePlan(host: string, transport: string, ctx: HostContext, changes: Change[], facts: string, publicKeys: PublicKeyFact[] = []): HostPlan {
  return {
    host,
    transport,
    platform: ctx.platform.name,
    facts,
    changes: changes.filter((c) => !isNoop(c)),
    skipped: changes.filter((c) => c.action === "skip"),
    kept: changes.filter((c) => c.action === "keep"),
    publicKeys,
  };
}

export function countActions(plan: HostPlan): { add: number; change: number; remove: number } {
  let add = 0;
  let change = 0;
  let remove = 0;
  for (const c of plan.changes) {
    if (c.action === "create" || c.action === "install") add++;
    else if (c.action === "delete" || c.action === "remove") remove++;
    else change++;
  }
  return { add, change, remove };
}
