// From a host's roles to its resources: each role gets the OS adapter of the
// host's platform, its own data for that platform, and the queues of the
// other MTAs (for a switch between MTAs).
import type { MtaQueue, Role } from "../../roles/types.ts";
import type { HostConfig } from "../inventory/catalog.ts";
import type { SecretResolver } from "../inventory/secrets.ts";
import { isPlatformName, type Platform } from "../platforms/index.ts";
import type { Resource } from "../resources/types.ts";
import { catalogRoles } from "./catalog.ts";
import { fleetLinks, type DataOverrides } from "./links.ts";
import { platformOf, roleDataFor } from "./role-data.ts";

export { platformOf, roleDataFor };

export function roleNamed(name: string): Role {
  const role = catalogRoles().find((r) => r.name === name);
  if (!role) throw new Error(`no role named ${name}`);
  return role;
}


/** The queues of every MTA role but `role` (and those of the same MTA software) on `platform`. */
export function otherMtaQueues(role: Role, platform: string): MtaQueue[] {
  const own = role.queue?.(roleDataFor(role, platform)).mta;
  const out = new Map<string, MtaQueue>();
  for (const r of catalogRoles()) {
    if (r === role || !r.queue || !isPlatformName(platform) || r.platforms[platform] === undefined) continue;
    const q = r.queue(r.platforms[platform]);
    if (q.mta !== own && !out.has(q.mta)) out.set(q.mta, q);
  }
  return [...out.values()];
}

export interface RoleOptions {
  secrets: SecretResolver;
  fleet?: readonly HostConfig[];
  /** Another OS adapter (tests: a service manager for a Postfix instance). */
  platform?: Platform;
  /** The role's data instead of its own for the host's platform (tests: paths of an instance). */
  data?: unknown;
  otherMtas?: readonly MtaQueue[];
  /** Other roles' data instead of their own, by role name, for what they offer this one (tests: Postfix as an instance). */
  dataOf?: DataOverrides;
}

/** One role's resources for one host. */
export function roleResources(role: Role, host: HostConfig, opts: RoleOptions): Resource[] {
  return role.resources(host, {
    platform: opts.platform ?? platformOf(host),
    data: opts.data ?? roleDataFor(role, host.platform),
    secrets: opts.secrets,
    fleet: opts.fleet ?? [host],
    otherMtas: opts.otherMtas ?? otherMtaQueues(role, host.platform),
    links: fleetLinks(opts.fleet ?? [host], host, { ...opts.dataOf, ...(opts.data === undefined ? {} : { [role.name]: opts.data }) }),
  });
}

/** Every mask the roles provide, by name. */
export function roleMasks(): Readonly<Record<string, (text: string) => string>> {
  return Object.assign({}, ...catalogRoles().map((r) => r.masks));
}
