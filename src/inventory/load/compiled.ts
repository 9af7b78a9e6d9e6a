// What the loader needs of a catalog, built once per catalog: the schemas
// composed from it, the roles by name, and (on the first error only) the
// index of the JSON Schema that error messages read what is allowed from.
import type { CatalogRole, InventoryCatalog } from "../catalog.ts";
import { SchemaIndex } from "../describe.ts";
import { composeSchemas, inventoryJsonSchema, type InventorySchemas } from "../schema.ts";

export interface CompiledCatalog {
  schemas: InventorySchemas;
  /** The index of the document `mailfleet schema` prints; a merged host is described by the schema of a `hosts` entry. */
  index(): SchemaIndex;
  roles: Map<string, CatalogRole>;
}

const compiledCatalogs = new WeakMap<InventoryCatalog, CompiledCatalog>();

export function compile(catalog: InventoryCatalog): CompiledCatalog {
  let c = compiledCatalogs.get(catalog);
  if (!c) {
    const schemas = composeSchemas(catalog);
    let index: SchemaIndex | undefined;
    c = { schemas, index: () => (index ??= new SchemaIndex(inventoryJsonSchema(schemas))), roles: new Map(catalog.roles.map((r) => [r.name, r])) };
    compiledCatalogs.set(catalog, c);
  }
  return c;
}
