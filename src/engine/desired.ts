import type { HostConfig } from "../inventory/catalog.ts";
import type { SecretResolver } from "../inventory/secrets.ts";
import { checkSecretMode } from "../resources/file.ts";
import { handlerFor } from "../resources/index.ts";
import type { HostContext, Resource } from "../resources/types.ts";
import type { Platform } from "../platforms/index.ts";
import type { Role } from "../../roles/types.ts";
import { platformOf, roleMasks, roleNamed, roleResources } from "./roles.ts";

export class DesiredStateError extends Error {
  override name = "DesiredStateError";
}

export function hostContext(platform: Platform, root: string): HostContext {
  return { root, sandbox: root !== "", platform, masks: roleMasks() };
}

export function hostContextFor(host: HostConfig, root: string): HostContext {
  return hostContext(platformOf(host), root);
}

/**
 * Checks a desired state: no id or path claimed twice, every trigger input
 * names a resource of it, every mask exists, no generated key readable by others.
 */
export function checkDesired(hostName: string, resources: readonly Resource[]): void {
  const ids = new Set<string>();
  const paths = new Map<string, string>();
  for (const r of resources) {
    if (ids.has(r.id)) throw new DesiredStateError(`${hostName}: resource ${r.id} is defined twice`);
    ids.add(r.id);
    if ("path" in r) {
      const other = paths.get(r.path);
      if (other) throw new DesiredStateError(`${hostName}: ${r.path} is managed by both ${other} and ${r.id}`);
      paths.set(r.path, r.id);
    }
    if (r.kind === "file" && r.mask && !roleMasks()[r.mask]) throw new DesiredStateError(`${hostName}: ${r.id} names mask ${r.mask}, which no role provides`);
    if (r.kind === "generatedKey") {
      try {
        checkSecretMode(r.id, r.mode);
      } catch (e) {
        throw new DesiredStateError(`${hostName}: ${(e as Error).message}`);
      }
    }
  }
  for (const r of resources) {
    for (const input of handlerFor(r).references?.(r) ?? []) {
      if (!ids.has(input)) throw new DesiredStateError(`${hostName}: ${r.id} is triggered by ${input}, which is not a resource of this host`);
    }
  }
}

/**
 * A host's roles in the order their resources apply: the inventory's, except
 * that a role using what another role of the host offers (Dovecot opening the
 * socket Postfix asks for, in Postfix's queue directory) comes after it.
 */
export function orderedRoles(host: HostConfig): Role[] {
  const listed = host.roles.map(roleNamed);
  const roles = [...new Set(listed)];
  const offers = new Map(roles.map((r) => [r, r.provides]));
  const after = (a: Role, b: Role) => a.uses.some((k) => offers.get(b)!.includes(k));
  const out: Role[] = [];
  const place = (r: Role, trail: Role[]) => {
    if (out.includes(r)) return;
    if (trail.includes(r)) throw new DesiredStateError(`${host.name}: roles ${[...trail, r].map((x) => x.name).join(" -> ")} each use what the next offers`);
    for (const b of roles) if (b !== r && after(r, b)) place(b, [...trail, r]);
    out.push(r);
  };
  for (const r of roles) place(r, []);
  // a role listed twice stays twice, so that checkDesired names its resources as defined twice
  return out.flatMap((r) => listed.filter((l) => l === r));
}

/** inventory host -> role(s) -> resources, checked (see checkDesired). */
export function desiredState(host: HostConfig, secrets: SecretResolver, fleet: readonly HostConfig[] = [host]): Resource[] {
  const out: Resource[] = [];
  for (const role of orderedRoles(host)) out.push(...roleResources(role, host, { secrets, fleet }));
  checkDesired(host.name, out);
  return out;
}
