// What the loader needs of a catalog, built once per catalog: the schemas
// composed from it, the roles by name, what each transport's schema says
// about its settings, and (on the first error only) the index of the JSON
// Schema that error messages read what is allowed from.
import type { CatalogRole, InventoryCatalog } from "../catalog.ts";
import { SchemaIndex } from "../describe.ts";
import { composeSchemas, inventoryJsonSchema, type InventorySchemas } from "../schema.ts";
import { localPathsIn, sshSettingsIn } from "../transport-schema.ts";
import type { Path } from "./positions.ts";

/** What a transport's schema says about its settings, found in the schema, never by the transport's name. */
export interface TransportFacts {
  /** Where it holds ssh settings: [] (ssh itself), ["via"] (a host reached through a parent host). */
  sshSettings: Path[];
  /** Its fields that are paths on this machine, relative to the inventory: ["root"] (local), ["via", "identityFile"]. */
  localPaths: Path[];
}

export interface CompiledCatalog {
  schemas: InventorySchemas;
  /** The index of the document `mailfleet schema` prints; a merged host is described by the schema of a `hosts` entry. */
  index(): SchemaIndex;
  roles: Map<string, CatalogRole>;
  /** By transport type. */
  transports: Map<string, TransportFacts>;
}

const compiledCatalogs = new WeakMap<InventoryCatalog, CompiledCatalog>();

export function compile(catalog: InventoryCatalog): CompiledCatalog {
  let c = compiledCatalogs.get(catalog);
  if (!c) {
    const schemas = composeSchemas(catalog);
    let index: SchemaIndex | undefined;
    c = {
      schemas,
      index: () => (index ??= new SchemaIndex(inventoryJsonSchema(schemas))),
      roles: new Map(catalog.roles.map((r) => [r.name, r])),
      transports: new Map(catalog.transports.map((t) => [String(t.shape.type.value), { sshSettings: sshSettingsIn(t), localPaths: localPathsIn(t) }])),
    };
    compiledCatalogs.set(catalog, c);
  }
  return c;
}
