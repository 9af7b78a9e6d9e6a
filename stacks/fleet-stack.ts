// One Terraform stack for the fleet (or for one part of it): one resource per
// host, replaced when its trigger changes; its local-exec runs mailfleet for
// that host, which reads secrets itself at apply time.
import { DataResource, nullProvider, TerraformStack, type App, type TerraformResource } from "./cdktf.ts";
import { FleetBackend, type BackendSettings } from "./backend.ts";

export const RESOURCE_KINDS = ["terraform_data", "null_resource"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface HostResource {
  host: string;
  /** Terraform resource name (see terraformName). */
  name: string;
  /** What replaces the resource when it changes: the host's name, its desired-state hash and, from a reviewed plan, the hash of its planned changes. */
  triggers: Record<string, string>;
  /**
   * A host the reviewed plan has nothing for: Terraform keeps it as it is
   * whatever its trigger says (lifecycle.ignore_changes), so `terraform plan`
   * lists exactly the hosts with changes.
   */
  unchanged: boolean;
  command: string;
}

export interface FleetStackProps {
  resource: ResourceKind;
  backend: BackendSettings;
  hosts: readonly HostResource[];
}

const PROVISIONER_WORKING_DIR = "${path.module}";

const keep = (h: HostResource, attribute: string) => (h.unchanged ? { ignoreChanges: [attribute] } : undefined);

export class FleetStack extends TerraformStack {
  readonly resources: TerraformResource[] = [];

  constructor(scope: App, id: string, props: FleetStackProps) {
    super(scope, id);
    new FleetBackend(this, props.backend);
    // Terraform checks its own version once; cdktf would check it once per resource (slow for big fleets).
    this.addOverride("terraform.required_version", props.resource === "terraform_data" ? ">= 1.4" : ">= 1.0");
    const provisioners = (h: HostResource) => [{ type: "local-exec" as const, command: h.command, workingDir: PROVISIONER_WORKING_DIR }];
    if (props.resource === "null_resource") {
      const { NullProvider, Resource } = nullProvider();
      new NullProvider(this, "null");
      for (const h of props.hosts) {
        this.add(new Resource(this, h.name, { triggers: h.triggers, provisioners: provisioners(h), lifecycle: keep(h, "triggers") }), h);
      }
    } else {
      for (const h of props.hosts) {
        this.add(new DataResource(this, h.name, { triggersReplace: h.triggers, provisioners: provisioners(h), lifecycle: keep(h, "triggers_replace") }), h);
      }
    }
  }

  private add(r: TerraformResource, h: HostResource): void {
    r.overrideLogicalId(h.name);
    this.resources.push(r);
  }
}
