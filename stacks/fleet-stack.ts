// One Terraform stack for the fleet: one resource per host, replaced when the
// hash of that host's desired state changes; its local-exec runs
// `mailfleet apply --limit <host>`, which reads secrets itself at apply time.
import { DataResource, nullProvider, TerraformStack, type App, type TerraformResource } from "./cdktf.ts";
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

  constructor(scope: App, id: string, props: FleetStackProps) {
    super(scope, id);
    new FleetBackend(this, props.backend);
    // Terraform checks its own version once; cdktf would check it once per resource (slow for big fleets).
    this.addOverride("terraform.required_version", props.resource === "terraform_data" ? ">= 1.4" : ">= 1.0");
    const triggers = (h: HostResource) => ({ host: h.host, desired: h.desired });
    const provisioners = (h: HostResource) => [{ type: "local-exec" as const, command: h.command, workingDir: PROVISIONER_WORKING_DIR }];
    if (props.resource === "null_resource") {
      const { NullProvider, Resource } = nullProvider();
      new NullProvider(this, "null");
      for (const h of props.hosts) this.add(new Resource(this, h.name, { triggers: triggers(h), provisioners: provisioners(h) }), h);
    } else {
      for (const h of props.hosts) this.add(new DataResource(this, h.name, { triggersReplace: triggers(h), provisioners: provisioners(h) }), h);
    }
  }

  private add(r: TerraformResource, h: HostResource): void {
    r.overrideLogicalId(h.name);
    this.resources.push(r);
  }
}
