// Builds and writes the fleet's Terraform stack, or one stack per part of the
// fleet (cdktf's layout: <outdir>/manifest.json and
// <outdir>/stacks/<name>/cdk.tf.json), as `mailfleet synth` and, through
// cdktf.json, `cdktf synth` do. With a reviewed plan, each stack carries a
// copy of it and each host's resource applies that host's part of it.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { desiredState } from "../src/engine/desired.ts";
import type { HostConfig } from "../src/inventory/catalog.ts";
import { maskingResolver } from "../src/inventory/secrets.ts";
import { backendSettings, StackError } from "./backend.ts";
import { canonicalJson, desiredFingerprint } from "../src/engine/fingerprint.ts";
import { serializePlan, type SavedHost, type SavedPlan } from "../src/engine/saved-plan.ts";
import { App } from "./cdktf.ts";
import { FleetStack, RESOURCE_KINDS, type HostResource, type ResourceKind } from "./fleet-stack.ts";
import { applyCommand, applyPlanCommand, terraformName } from "./host-exec.ts";
import { splitHosts, type SplitRule } from "./split.ts";

export interface SynthOptions {
  inventoryFile: string;
  hosts: readonly HostConfig[];
  /** Every host of the inventory, when `hosts` is a selection (a hub's settings depend on the others). */
  fleet?: readonly HostConfig[];
  /** The inventory's group names: `--limit NAME` selects a whole group when a host has its name. */
  groups?: readonly string[];
  outdir: string;
  stackName?: string;
  resource?: string;
  backend?: string;
  backendConfig?: Record<string, string>;
  /** How the stack runs mailfleet (see applyCommand). */
  exec?: string;
  /** The reviewed plan (`mailfleet plan --out`, checked against this inventory): its hosts are the stack's. */
  plan?: SavedPlan;
  /** One stack per part of the fleet (see split.ts). */
  split?: SplitRule;
}

export interface StackHost {
  host: string;
  address: string;
  desired: string;
  /** With a reviewed plan: whether it has changes for the host (only those are applied). */
  changes?: boolean;
}

export interface StackResult {
  stack: string;
  /** The part of the fleet (with --split-by). */
  part?: string;
  stackDir: string;
  file: string;
  backend: Record<string, string | boolean>;
  /** The copy of the reviewed plan the stack applies. */
  planFile?: string;
  hosts: StackHost[];
}

export interface SynthResult {
  outdir: string;
  /** The first stack's (the only one unless split). */
  stackDir: string;
  file: string;
  resource: ResourceKind;
  backend: string;
  stacks: StackResult[];
  hosts: StackHost[];
}

/** The name of the plan copy in a stack's directory. */
export const STACK_PLAN_FILE = "mailfleet.plan";

/** Replaces the host's resource when the reviewed plan's changes for it change: their facts and changes, hashed. */
export function planTrigger(h: SavedHost): string {
  return createHash("sha256").update(canonicalJson({ facts: h.facts_sha256, changes: h.changes })).digest("hex");
}

export const DEFAULT_STACK = "mailfleet";

export async function synthFleet(o: SynthOptions): Promise<SynthResult> {
  const stackName = o.stackName ?? DEFAULT_STACK;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(stackName)) {
    throw new StackError(`--stack ${JSON.stringify(stackName)}: a stack name is a letter then letters, digits, '_' or '-'`);
  }
  const resource = (o.resource ?? "terraform_data") as ResourceKind;
  if (!RESOURCE_KINDS.includes(resource)) {
    throw new StackError(`--resource ${o.resource} is not supported; use ${RESOURCE_KINDS.join(" or ")}`);
  }
  if (process.env.SYNTH_HCL_OUTPUT === "true") {
    throw new StackError("HCL output (cdktf synth --hcl, SYNTH_HCL_OUTPUT=true) is not supported: mailfleet writes Terraform JSON (cdk.tf.json)");
  }
  const outdir = path.resolve(o.outdir);
  const inventoryFile = path.resolve(o.inventoryFile);

  if (o.exec !== undefined && (o.exec.trim() === "" || /[\n\r\0]/.test(o.exec))) {
    throw new StackError("--exec needs a command on one line, e.g. --exec mailfleet");
  }
  const groups = new Set(o.groups ?? []);
  const planned = new Map((o.plan?.hosts ?? []).map((h) => [h.host, h]));
  const names = new Map<string, string>();
  const hostResource = (h: HostConfig, stackDir: string, planFile: string | undefined): HostResource => {
    if (groups.has(h.name)) {
      throw new StackError(`host ${h.name} has the name of a group, so 'mailfleet apply --limit ${h.name}' would apply the whole group; rename the host or the group`);
    }
    const name = terraformName(h.name);
    const clash = names.get(name);
    if (clash) throw new StackError(`hosts ${clash} and ${h.name} would share the Terraform resource name ${name}`);
    names.set(name, h.name);
    const desired = desiredFingerprint(h, desiredState(h, maskingResolver, o.fleet ?? o.hosts));
    if (planFile === undefined) {
      return { host: h.name, name, triggers: { host: h.name, desired }, unchanged: false, command: applyCommand({ stackDir, inventoryFile, host: h.name, exec: o.exec }) };
    }
    const saved = planned.get(h.name);
    if (!saved) throw new StackError(`host ${h.name} is not in the reviewed plan`);
    const changes = saved.changes.length > 0;
    return {
      host: h.name,
      name,
      triggers: changes ? { host: h.name, desired, plan: planTrigger(saved) } : { host: h.name, desired },
      unchanged: !changes,
      command: applyPlanCommand({ stackDir, inventoryFile, planFile, host: h.name, exec: o.exec }),
    };
  };

  const parts = o.split ? splitHosts(stackName, o.hosts, o.split) : [{ stack: stackName, part: undefined, hosts: [...o.hosts] }];
  const schemas = new Map<string, string>();
  const stacks = parts.map((p) => {
    const stackDir = path.join(outdir, "stacks", p.stack);
    const backend = backendSettings(o.backend ?? "local", o.backendConfig ?? {}, { stackName: p.stack, stackDir, inventoryDir: path.dirname(inventoryFile), part: p.part });
    const schema = backend.type === "pg" && p.part !== undefined ? String(backend.attributes.schema_name) : undefined;
    if (schema !== undefined) {
      const other = schemas.get(schema);
      if (other) throw new StackError(`the stacks ${other} and ${p.stack} would share the pg schema ${schema}, and so one state; rename a part`);
      schemas.set(schema, p.stack);
    }
    const planFile = o.plan ? path.join(stackDir, STACK_PLAN_FILE) : undefined;
    return { ...p, stackDir, backend, planFile, resources: p.hosts.map((h) => hostResource(h, stackDir, planFile)) };
  });

  mkdirSync(outdir, { recursive: true }); // cdktf's App creates only the last level
  // cdktf records a stack trace for every token it creates; with source maps on
  // (tsx turns them on) each one costs a source-map lookup: about 0.15 s for 1,000 hosts.
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    const app = new App({ outdir, skipValidation: true, stackTraces: false });
    for (const s of stacks) new FleetStack(app, s.stack, { resource, backend: s.backend, hosts: s.resources });
    app.synth();
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
  }
  if (o.plan) for (const s of stacks) writeFileSync(s.planFile!, serializePlan(o.plan), { mode: 0o644 });

  const results: StackResult[] = stacks.map((s) => ({
    stack: s.stack,
    ...(s.part !== undefined ? { part: s.part } : {}),
    stackDir: s.stackDir,
    file: path.join(s.stackDir, "cdk.tf.json"),
    backend: s.backend.attributes,
    ...(s.planFile ? { planFile: s.planFile } : {}),
    hosts: s.resources.map((h) => ({
      host: h.host,
      address: `${resource}.${h.name}`,
      desired: h.triggers.desired!,
      ...(o.plan ? { changes: !h.unchanged } : {}),
    })),
  }));
  return {
    outdir,
    stackDir: results[0]!.stackDir,
    file: results[0]!.file,
    resource,
    backend: stacks[0]!.backend.type,
    stacks: results,
    hosts: results.flatMap((r) => r.hosts),
  };
}
