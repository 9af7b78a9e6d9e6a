// Builds and writes the fleet's Terraform stack (cdktf's layout:
// <outdir>/manifest.json and <outdir>/stacks/<name>/cdk.tf.json), as
// `mailfleet synth` and, through cdktf.json, `cdktf synth` do.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { desiredState } from "../src/engine/desired.ts";
import type { HostConfig } from "../src/inventory/catalog.ts";
import { maskingResolver } from "../src/inventory/secrets.ts";
import { backendSettings, StackError } from "./backend.ts";
import { desiredFingerprint } from "../src/engine/fingerprint.ts";
import { App } from "./cdktf.ts";
import { FleetStack, RESOURCE_KINDS, type HostResource, type ResourceKind } from "./fleet-stack.ts";
import { applyCommand, terraformName } from "./host-exec.ts";

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
}

export interface SynthResult {
  outdir: string;
  stackDir: string;
  file: string;
  resource: ResourceKind;
  backend: string;
  hosts: { host: string; address: string; desired: string }[];
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
  const stackDir = path.join(outdir, "stacks", stackName);
  const inventoryFile = path.resolve(o.inventoryFile);
  const backend = backendSettings(o.backend ?? "local", o.backendConfig ?? {}, {
    stackName,
    stackDir,
    inventoryDir: path.dirname(inventoryFile),
  });

  if (o.exec !== undefined && (o.exec.trim() === "" || /[\n\r\0]/.test(o.exec))) {
    throw new StackError("--exec needs a command on one line, e.g. --exec mailfleet");
  }
  const groups = new Set(o.groups ?? []);
  const names = new Map<string, string>();
  const hosts: HostResource[] = o.hosts.map((h) => {
    if (groups.has(h.name)) {
      throw new StackError(`host ${h.name} has the name of a group, so 'mailfleet apply --limit ${h.name}' would apply the whole group; rename the host or the group`);
    }
    const name = terraformName(h.name);
    const clash = names.get(name);
    if (clash) throw new StackError(`hosts ${clash} and ${h.name} would share the Terraform resource name ${name}`);
    names.set(name, h.name);
    return {
      host: h.name,
      name,
      desired: desiredFingerprint(h, desiredState(h, maskingResolver, o.fleet ?? o.hosts)),
      command: applyCommand({ stackDir, inventoryFile, host: h.name, exec: o.exec }),
    };
  });

  mkdirSync(outdir, { recursive: true }); // cdktf's App creates only the last level
  // cdktf records a stack trace for every token it creates; with source maps on
  // (tsx turns them on) each one costs a source-map lookup: about 0.15 s for 1,000 hosts.
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    const app = new App({ outdir, skipValidation: true, stackTraces: false });
    new FleetStack(app, stackName, { resource, backend, hosts });
    app.synth();
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
  }
  return {
    outdir,
    stackDir,
    file: path.join(stackDir, "cdk.tf.json"),
    resource,
    backend: backend.type,
    hosts: hosts.map((h) => ({ host: h.host, address: `${resource}.${h.name}`, desired: h.desired })),
  };
}
