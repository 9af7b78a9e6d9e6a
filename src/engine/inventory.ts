// The inventory as the engine reads it: the loader of src/inventory with the
// catalog of the roles handed to the engine (catalog.ts) and the platforms.
import type { Role } from "../../roles/types.ts";
import type { HostConfig, Inventory, InventoryCatalog } from "../inventory/catalog.ts";
import { catalogSchemas, loadInventory as load, parseInventory as parse, secretEnvNames, type LoadOptions } from "../inventory/load.ts";
import { withholdSecretEnv } from "../inventory/secrets.ts";
import { builtinTransports, inventoryJsonSchema as jsonSchema } from "../inventory/schema.ts";
import { platformNames } from "../platforms/index.ts";
import { directoryProblems, type ManagedDirectory } from "../inventory/directories.ts";
import { catalogRoles } from "./catalog.ts";
import { fleetLinks } from "./links.ts";
import { roleDataFor } from "./role-data.ts";

/** The directories every role manages on `platform` (whether or not it runs on the host: a store inside Postfix's queue directory is wrong either way). */
function managedOn(platform: string): ManagedDirectory[] {
  return catalogRoles().flatMap((r) => {
    const data = (r.platforms as Record<string, unknown>)[platform];
    return data === undefined ? [] : r.managedDirectories(data).map((d) => ({ ...d, role: r.name }));
  });
}

/** `role`'s directory settings on `host` against the system's, every role's managed ones and the host's other roles' settings. */
function directoryRules(role: Role, host: HostConfig) {
  const own = role.directorySettings(host);
  if (!own.length) return [];
  const others = catalogRoles().filter((r) => r !== role && host.roles.includes(r.name)).flatMap((r) => r.directorySettings(host));
  return directoryProblems(own, managedOn(host.platform), others);
}

const catalogs = new WeakMap<readonly Role[], InventoryCatalog>();

/** What the loader needs of the roles handed to the engine (one object per set of roles: the loader caches its schemas by it). */
export function catalog(): InventoryCatalog {
  const roles = catalogRoles();
  let c = catalogs.get(roles);
  if (!c) catalogs.set(roles, (c = catalogOf(roles)));
  return c;
}

const catalogOf = (roles: readonly Role[]): InventoryCatalog => ({
  platforms: platformNames,
  transports: builtinTransports,
  roles: roles.map((role) => ({
    name: role.name,
    sections: role.sections,
    settings: role.settings,
    platforms: Object.keys(role.platforms),
    exclusive: role.exclusive,
    rules: (host: HostConfig, fleet: readonly HostConfig[]) => [...role.rules(host, { data: roleDataFor(role, host.platform), fleet, links: fleetLinks(fleet, host) }), ...directoryRules(role, host)],
  })),
});

/**
 * Loads the inventory and takes the environment variables it names as
 * secrets out of this process's environment, so no program mailfleet starts
 * (sh, ssh, secret commands) inherits them; mailfleet keeps their values.
 */
export function loadInventory(file: string, opts: LoadOptions = {}): Inventory {
  const inv = load(file, catalog(), opts);
  withholdSecretEnv(secretEnvNames(inv.hosts));
  return inv;
}

export function parseInventory(text: string, file: string, opts: LoadOptions = {}): Inventory {
  return parse(text, file, catalog(), opts);
}

/** JSON Schema of the inventory file, for editors (`mailfleet schema`). */
export function inventoryJsonSchema(): Record<string, unknown> {
  return jsonSchema(catalogSchemas(catalog()));
}

export type { HostConfig, Inventory };
