// What the inventory layer needs to know about roles and platforms, passed
// in by the caller (the engine builds it from the registries): this layer
// imports no role. The loader composes the schema from it and runs each
// role's cross-field rules.
import type { z } from "zod";
import type { InventoryProblem } from "./errors.ts";
import type { CoreSettings, TransportSchema } from "./schema.ts";

/**
 * A problem a rule found; `field` is a path under the host's settings (e.g.
 * [section, "persistentSpool"]), none: the host itself. A fleet-level rule
 * (a hub looking at the hosts relaying to it) may name another `host`: the
 * problem is then placed at that host's field.
 */
export interface RuleProblem {
  field?: (string | number)[];
  host?: string;
  message: string;
}

export interface CatalogRole {
  name: string;
  /** Settings sections the role reads, key -> schema. */
  sections: Record<string, z.ZodType>;
  /** Host settings besides its sections that the role reads for its own host (adminaddr, relay): set where no role reads them, they are refused or warned about. */
  settings?: readonly string[];
  /** Platforms the role supports. */
  platforms: readonly string[];
  /** At most one role of a group per host. */
  exclusive?: string;
  rules?(host: HostConfig, fleet: readonly HostConfig[]): RuleProblem[];
}

export interface InventoryCatalog {
  platforms: readonly string[];
  /** The transports a host may name (schema.ts builtinTransports, or more). */
  transports: readonly TransportSchema[];
  roles: readonly CatalogRole[];
}

/** One host's merged, validated settings. Role sections are there under their keys, typed by the roles that read them. */
export interface HostConfig extends CoreSettings {
  name: string;
  group?: string;
  /** The host's full name: fqdn if set, else <name>.<domain>. */
  fqdn: string;
  inventoryFile: string;
  inventoryDir: string;
  [section: string]: unknown;
}

export interface Inventory {
  file: string;
  hosts: HostConfig[];
  /** What has no effect where it is set (a setting no host under defaults or a group reads), for the reader to see; nothing refused. */
  warnings: InventoryProblem[];
}
