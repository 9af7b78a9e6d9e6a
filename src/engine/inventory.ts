// The inventory as the engine reads it: the loader of src/inventory with the
// catalog of the registered roles and platforms.
import { roles } from "../../roles/index.ts";
import type { HostConfig, Inventory, InventoryCatalog } from "../inventory/catalog.ts";
import { catalogSchemas, loadInventory as load, parseInventory as parse, secretEnvNames, type LoadOptions } from "../inventory/load.ts";
import { withholdSecretEnv } from "../inventory/secrets.ts";
import { inventoryJsonSchema as jsonSchema } from "../inventory/schema.ts";
import { platformNames } from "../platforms/index.ts";
import { roleDataFor } from "./roles.ts";

export const catalog: InventoryCatalog = {
  platforms: platformNames,
  roles: roles.map((role) => ({
    name: role.name,
    sections: role.sections,
    platforms: Object.keys(role.platforms),
    exclusive: role.exclusive,
    rules: (host: HostConfig, fleet: readonly HostConfig[]) => role.rules(host, { data: roleDataFor(role, host.platform), fleet }),
  })),
};

/**
 * Loads the inventory and takes the environment variables it names as
 * secrets out of this process's environment, so no program mailfleet starts
 * (sh, ssh, secret commands) inherits them; mailfleet keeps their values.
 */
export function loadInventory(file: string, opts: LoadOptions = {}): Inventory {
  const inv = load(file, catalog, opts);
  withholdSecretEnv(secretEnvNames(inv.hosts));
  return inv;
}

export function parseInventory(text: string, file: string, opts: LoadOptions = {}): Inventory {
  return parse(text, file, catalog, opts);
}

/** JSON Schema of the inventory file, for editors (`mailfleet schema`). */
export function inventoryJsonSchema(): Record<string, unknown> {
  return jsonSchema(catalogSchemas(catalog));
}

export type { HostConfig, Inventory };
