// Each level of the file (defaults, a group, a host) against what a level may
// set, before anything is merged: an unknown key, a wrong type or a value out
// of range is reported at the level that has it, in file order.
import type { InventoryFile } from "../schema.ts";
import type { CompiledCatalog } from "./compiled.ts";
import type { Positions } from "./positions.ts";
import { inFileOrder, type Checked } from "./problems.ts";
import { zodProblems } from "./zod-problems.ts";

export function fileShape(raw: unknown, { schemas, index }: CompiledCatalog, pos: Positions): Checked<InventoryFile> {
  const parsed = schemas.inventoryFile.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  return { problems: inFileOrder(zodProblems(parsed.error, raw, { index: index(), schemaAt: [], locate: (p, k) => pos.at(p, k), file: pos.file, prefix: [] })) };
}
