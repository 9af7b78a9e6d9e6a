// The two scripts a host ever sees: one probe, and one apply that first checks
// the host is still as planned (the same probe, hashed on the host) and ends
// with the same probe (the verification), so an apply costs one round trip.
import { createHash } from "node:crypto";
import { handlerFor } from "../resources/index.ts";
import type { Change, HostContext, Resource } from "../resources/types.ts";
import { hostPath, join, sh, type Sh } from "../shell/builder.ts";
import { applyPrelude, prelude } from "../shell/prelude.ts";

export const PROBE_BEGIN = "@@mailfleet-probe";
export const PROBE_END = "@@mailfleet-end";
export const VERIFY = "@@mailfleet-verify";
export const APPLIED = "@@mailfleet-applied";
export const STALE = "@@mailfleet-stale";
/** Probe lines starting with this are not facts the apply acts on (counts of queued mail, secret content): the plan's hash leaves them out. */
export const UNHASHED = "~";

/** The directories holding these host paths, each once (what mf_inside_root checks). */
function parentDirs(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => p.slice(0, Math.max(1, p.lastIndexOf("/")))))];
}

function probeBody(resources: readonly Resource[], ctx: HostContext): Sh {
  const paths = [...new Set(resources.flatMap((r) => handlerFor(r).statPaths?.(r) ?? []))];
  // One ls for every path of the host; mf_stat reads its lines instead of running ls per path.
  const list = paths.length ? sh`MF_LS=$(ls -ld -- ${paths.map(hostPath)} 2>/dev/null)` : sh`MF_LS=`;
  const inside = ctx.root && paths.length ? sh`mf_inside_root ${parentDirs(paths)}` : undefined;
  const parts = [inside, list, sh`echo ${PROBE_BEGIN}`].filter((p): p is Sh => !!p);
  for (const r of resources) {
    // stdin is the script itself: no command of a resource may read it (it would eat the lines after it)
    parts.push(sh`echo ${`@@ ${r.id}`}`, sh`{\n${handlerFor(r).probe(r, ctx)}\n} 2>/dev/null </dev/null`, sh`echo @@.`);
  }
  parts.push(sh`echo ${PROBE_END}`);
  return join(parts);
}

export function probeScript(resources: readonly Resource[], ctx: HostContext): string {
  return `${join([prelude(ctx.root, ctx.platform), probeBody(resources, ctx)]).sh}\n`;
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

/**
 * SHA-256 of the facts a probe printed: the lines from PROBE_BEGIN to
 * PROBE_END, without the UNHASHED ones, each ending in a newline. The apply
 * script computes the same on the host (mf_check_plan) before it writes.
 */
export function factsHash(stdout: string): string | null {
  const lines = stdout.split("\n");
  const begin = lines.indexOf(PROBE_BEGIN);
  const end = lines.indexOf(PROBE_END, begin + 1);
  if (begin < 0 || end < 0) return null;
  const facts = lines.slice(begin, end + 1).filter((l) => !l.startsWith(UNHASHED));
  return createHash("sha256").update(`${facts.join("\n")}\n`).digest("hex");
}

/**
 * The apply script: lock, then (given the hash of the facts the plan was made
 * from) refuse with STALE unless the host still shows those facts, then the
 * changes, then the verifying probe.
 */
export function applyScript(resources: readonly Resource[], changes: readonly Change[], ctx: HostContext, plannedFacts?: string): string {
  const byId = new Map(resources.map((r) => [r.id, r]));
  const made = changes.filter((c) => c.action !== "skip" && c.action !== "keep");
  const plan = { resources: byId, changes: new Map(made.map((c) => [c.id, c])) };
  const steps: Sh[] = [];
  for (const change of made) {
    const r = byId.get(change.id);
    if (!r) throw new Error(`plan names unknown resource ${change.id}`);
    steps.push(sh`echo ${`@@step ${change.id}`}`, sh`{\n${handlerFor(r).apply(r, change, ctx, plan)}\n} </dev/null`);
  }
  if (plannedFacts !== undefined && !/^[0-9a-f]{64}$/.test(plannedFacts)) throw new Error(`not a SHA-256: ${JSON.stringify(plannedFacts)}`);
  return `${join([
    prelude(ctx.root, ctx.platform),
    applyPrelude(ctx.root, ctx.platform),
    ctx.root ? sh`mf_inside_root ${parentDirs(resources.flatMap((r) => handlerFor(r).statPaths?.(r) ?? []))}` : undefined,
    sh`mf_probe() {\n${probeBody(resources, ctx)}\n}`,
    sh`mf_lock`,
    plannedFacts === undefined ? undefined : sh`mf_check_plan ${plannedFacts}`,
    ...steps,
    sh`echo ${APPLIED}`,
    sh`echo ${VERIFY}`,
    sh`mf_probe`,
  ]).sh}\n`;
}

export interface ApplyOutput {
  steps: string[];
  /** The host's facts were not the planned ones: nothing was written. */
  stale: boolean;
  completed: boolean;
  verifyFacts: Map<string, string[]> | null;
}

export function parseApplyOutput(stdout: string): ApplyOutput {
  const lines = stdout.split("\n");
  const steps = lines.filter((l) => l.startsWith("@@step ")).map((l) => l.slice(7));
  const completed = lines.includes(APPLIED);
  const v = lines.indexOf(VERIFY);
  return { steps, stale: lines.includes(STALE), completed, verifyFacts: v >= 0 ? parseProbeOutput(lines.slice(v + 1).join("\n")) : null };
}
