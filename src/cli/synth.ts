// `mailfleet synth`: the Terraform stack for the inventory. Loaded only when
// that command runs, so no other command pays for loading cdktf.
import path from "node:path";
import { parseBackendConfig } from "../../stacks/backend.ts";
import { synthFleet, type SynthResult } from "../../stacks/synth.ts";
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
}

export async function runSynth(inventory: Inventory, hosts: HostConfig[], opts: SynthCommandOptions): Promise<SynthResult> {
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
  });
}

export function synthSummary(r: SynthResult): string {
  const where = path.relative(process.cwd(), r.file) || r.file;
  return `synthesized ${r.hosts.length} host${r.hosts.length === 1 ? "" : "s"} as ${r.resource} (backend ${r.backend}) into ${where}`;
}
