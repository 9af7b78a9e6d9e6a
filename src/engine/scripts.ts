// The two scripts a host ever sees: one probe, and one apply that ends with
// the same probe (the verification), so an apply costs one round trip.
import { handlerFor } from "../resources/index.ts";
import type { Change, HostContext, Resource } from "../resources/types.ts";
import { hostPath, join, sh, type Sh } from "../shell/builder.ts";
import { applyPrelude, prelude } from "../shell/prelude.ts";

export const PROBE_BEGIN = "@@mailfleet-probe";
export const PROBE_END = "@@mailfleet-end";
export const VERIFY = "@@mailfleet-verify";
export const APPLIED = "@@mailfleet-applied";

function probeBody(resources: readonly Resource[], ctx: HostContext): Sh {
  const paths = [...new Set(resources.flatMap((r) => handlerFor(r).statPaths?.(r) ?? []))];
  // One ls for every path of the host; mf_stat reads its lines instead of running ls per path.
  const list = paths.length ? sh`MF_LS=$(ls -ld -- ${paths.map(hostPath)} 2>/dev/null)` : sh`MF_LS=`;
  const inside = ctx.root && paths.length ? sh`mf_inside_root ${paths}` : undefined;
  const parts = [inside, list, sh`echo ${PROBE_BEGIN}`].filter((p): p is Sh => !!p);
  for (const r of resources) {
    parts.push(sh`echo ${`@@ ${r.id}`}`, sh`{\n${handlerFor(r).probe(r, ctx)}\n} 2>/dev/null`, sh`echo @@.`);
  }
  parts.push(sh`echo ${PROBE_END}`);
  return join(parts);
}

export function probeScript(resources: readonly Resource[], ctx: HostContext): string {
  return `${join([prelude(ctx.root, ctx.platform.basePath), probeBody(resources, ctx)]).sh}\n`;
}

/** Facts per resource id, from the lines between PROBE_BEGIN and PROBE_END. */
export function parseProbeOutput(stdout: string): Map<string, string[]> | null {
  const lines = stdout.split("\n");
  const begin = lines.indexOf(PROBE_BEGIN);
  const end = lines.indexOf(PROBE_END, begin + 1);
  if (begin < 0 || end < 0) return null;
  const facts = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of lines.slice(begin + 1, end)) {
    if (line.startsWith("@@ ")) {
      current = [];
      facts.set(line.slice(3), current);
    } else if (line === "@@.") current = null;
    else current?.push(line);
  }
  return facts;
}

export function applyScript(resources: readonly Resource[], changes: readonly Change[], ctx: HostContext): string {
  const byId = new Map(resources.map((r) => [r.id, r]));
  const steps: Sh[] = [];
  for (const change of changes) {
    if (change.action === "skip") continue;
    const r = byId.get(change.id);
    if (!r) throw new Error(`plan names unknown resource ${change.id}`);
    steps.push(sh`echo ${`@@step ${change.id}`}`, handlerFor(r).apply(r, change, ctx));
  }
  return `${join([
    prelude(ctx.root, ctx.platform.basePath),
    applyPrelude(ctx.root),
    ctx.root ? sh`mf_inside_root ${[...new Set(resources.flatMap((r) => handlerFor(r).statPaths?.(r) ?? []))]}` : undefined,
    sh`mf_lock`,
    ...steps,
    sh`echo ${APPLIED}`,
    sh`echo ${VERIFY}`,
    probeBody(resources, ctx),
  ]).sh}\n`;
}

export interface ApplyOutput {
  steps: string[];
  completed: boolean;
  verifyFacts: Map<string, string[]> | null;
}

export function parseApplyOutput(stdout: string): ApplyOutput {
  const lines = stdout.split("\n");
  const steps = lines.filter((l) => l.startsWith("@@step ")).map((l) => l.slice(7));
  const completed = lines.includes(APPLIED);
  const v = lines.indexOf(VERIFY);
  return { steps, completed, verifyFacts: v >= 0 ? parseProbeOutput(lines.slice(v + 1).join("\n")) : null };
}
