// A host's levels merged, defaults < group < host (merge.ts), and the result
// validated as one host: what the merged host lacks or has wrong is reported
// at the most specific level that sets it, else at the host itself.
import { valueAt } from "../describe.ts";
import type { InventoryProblem } from "../errors.ts";
import { mergeSettings } from "../merge.ts";
import type { CoreSettings, InventoryFile } from "../schema.ts";
import type { CompiledCatalog } from "./compiled.ts";
import type { HostEntry } from "./host-entries.ts";
import { fieldName, type Path, type Positions } from "./positions.ts";
import type { Checked } from "./problems.ts";
import { zodProblems } from "./zod-problems.ts";

/** A host's merged, validated settings (role sections under their keys). */
export type HostSettings = CoreSettings & Record<string, unknown>;

/** The settings of each level of `entry` (a group's without its `hosts`). */
function levelValues(entry: HostEntry, inv: InventoryFile): (Record<string, unknown> | null | undefined)[] {
  return entry.levels.map((lp) => {
    const v = valueAt(inv, lp) as Record<string, unknown> | null | undefined;
    if (!v) return v;
    const { hosts: _hosts, ...rest } = v;
    return rest;
  });
}

/** Where a path of the merged host is in the file: the level that sets it, else the deepest part of it a level sets, else the host. */
function locator(entry: HostEntry, pos: Positions) {
  return (p: Path, keyOfLast: boolean): { line: number; column: number; field?: string } => {
    // a level that sets exactly this path: there, under that level's name
    for (let i = entry.levels.length - 1; i >= 0 && p.length > 0; i--) {
      const full = [...entry.levels[i]!, ...p];
      if (pos.has(full)) return { ...pos.at(full, keyOfLast), field: fieldName(full) };
    }
    for (let i = entry.levels.length - 1; i >= 0; i--) {
      const full = [...entry.levels[i]!, ...p];
      if (p.length > 0 && pos.has(full.slice(0, entry.levels[i]!.length + 1))) {
        // deepest existing prefix within this level
        let k = full.length;
        while (k > entry.levels[i]!.length + 1 && !pos.has(full.slice(0, k))) k--;
        return pos.at(full.slice(0, k), keyOfLast && k === full.length);
      }
    }
    return pos.at(entry.path, true);
  };
}

export function mergedHost(entry: HostEntry, inv: InventoryFile, { schemas, index }: CompiledCatalog, pos: Positions): Checked<HostSettings> {
  const merged = mergeSettings(...levelValues(entry, inv));
  const result = schemas.hostConfig.safeParse(merged);
  if (result.success) return { value: result.data };
  // The merged host has a level's shape: describe it with the schema of a host entry.
  const problems: InventoryProblem[] = zodProblems(result.error, merged, {
    index: index(),
    schemaAt: ["hosts", entry.name],
    locate: locator(entry, pos),
    file: pos.file,
    prefix: entry.path,
  });
  return { problems };
}
