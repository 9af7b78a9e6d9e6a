// `mailfleet synth`: the Terraform stack for the inventory. Loaded only when
// that command runs, so no other command pays for loading cdktf.
import path from "node:path";
import { parseBackendConfig } from "../../stacks/backend.ts";
import { parseSplitRule } from "../../stacks/split.ts";
import { synthFleet, type SynthResult } from "../../stacks/synth.ts";
import type { SavedPlan } from "../engine/saved-plan.ts";
import type { HostConfig, Inventory } from "../inventory/catalog.ts";

export interface SynthCommandOptions {
  out: string;
  stack?: string;
  resource: string;
  backend: string;
  backendConfig: string[];
  exec?: string;
  /** Run as cdktf.json's "app": the cdktf CLI says where to write through CDKTF_OUTDIR. */
  cdktfApp?: boolean;
  splitBy: string[];
}

export async function runSynth(inventory: Inventory, hosts: HostConfig[], opts: SynthCommandOptions, plan?: SavedPlan): Promise<SynthResult> {
  const outdir = (opts.cdktfApp && process.env.CDKTF_OUTDIR) || opts.out;
  return synthFleet({
    inventoryFile: inventory.file,
    hosts,
    fleet: inventory.hosts,
    groups: [...new Set(inventory.hosts.flatMap((h) => (h.group ? [h.group] : [])))],
    outdir,
    stackName: opts.stack,
    resource: opts.resource,
    backend: opts.backend,
    backendConfig: parseBackendConfig(opts.backendConfig),
    exec: opts.exec,
    plan,
    split: parseSplitRule(opts.splitBy),
  });
}

export function synthSummary(r: SynthResult): string {
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  const n = (k: number) => `${k} host${k === 1 ? "" : "s"}`;
  const applied = (s: SynthResult["stacks"][number]) => (s.planFile ? `, ${s.hosts.filter((h) => h.changes).length} with changes in the reviewed plan` : "");
  if (r.stacks.length === 1) {
    const s = r.stacks[0]!;
    return `synthesized ${n(s.hosts.length)} as ${r.resource} (backend ${r.backend}${applied(s)}) into ${rel(s.file)}`;
  }
  const lines = r.stacks.map((s) => `  ${s.stack}: ${n(s.hosts.length)}${applied(s)} in ${rel(s.file)}`);
  return [`synthesized ${n(r.hosts.length)} as ${r.resource} (backend ${r.backend}) into ${r.stacks.length} stacks (listed in ${rel(path.join(r.outdir, "manifest.json"))}):`, ...lines].join("\n");
}
