// One Terraform stack for the fleet: one resource per host, replaced when the
// hash of that host's desired state changes; its local-exec runs
// `mailfleet apply --limit <host>`, which reads secrets itself at apply time.
import { DataResource, TerraformStack, type App } from "cdktf";
import type { TerraformResource } from "cdktf";
import { FleetBackend, type BackendSettings } from "./backend.ts";

export const RESOURCE_KINDS = ["terraform_data", "null_resource"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface HostResource {
  host: string;
  /** Terraform resource name (see terraformName). */
  name: string;
  /** sha256 of the host's desired state, secrets masked. */
  desired: string;
  command: string;
}

export interface FleetStackProps {
  resource: ResourceKind;
  backend: BackendSettings;
  hosts: readonly HostResource[];
}

const PROVISIONER_WORKING_DIR = "${path.module}";

export class FleetStack extends TerraformStack {
  readonly resources: TerraformResource[] = [];

  private constructor(scope: App, id: string, props: FleetStackProps) {
    super(scope, id);
    new FleetBackend(this, props.backend);
  }

  /** null_resource needs @cdktf/provider-null, loaded only when asked for. */
  static async create(scope: App, id: string, props: FleetStackProps): Promise<FleetStack> {
    const stack = new FleetStack(scope, id, props);
    // Terraform checks its own version once; cdktf would check it once per resource (slow for big fleets).
    stack.addOverride("terraform.required_version", props.resource === "terraform_data" ? ">= 1.4" : ">= 1.0");
    const triggers = (h: HostResource) => ({ host: h.host, desired: h.desired });
    const provisioners = (h: HostResource) => [{ type: "local-exec" as const, command: h.command, workingDir: PROVISIONER_WORKING_DIR }];
    if (props.resource === "null_resource") {
      const [{ NullProvider }, { Resource }] = await Promise.all([
        import("@cdktf/provider-null/lib/provider/index.js"),
        import("@cdktf/provider-null/lib/resource/index.js"),
      ]);
      new NullProvider(stack, "null");
      for (const h of props.hosts) {
        const r = new Resource(stack, h.name, { triggers: triggers(h), provisioners: provisioners(h) });
        r.overrideLogicalId(h.name);
        stack.resources.push(r);
      }
    } else {
      for (const h of props.hosts) {
        const r = new DataResource(stack, h.name, { triggersReplace: triggers(h), provisioners: provisioners(h) });
        r.overrideLogicalId(h.name);
        stack.resources.push(r);
      }
    }
    return stack;
  }
}
