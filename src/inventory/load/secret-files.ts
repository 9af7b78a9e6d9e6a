// A secret file must exist when the inventory is loaded: one that does not
// is a typo, better reported at its line than at the first plan that reads
// it. (What it holds is read, bounded, only when a plan needs it: secrets.ts.)
import { statSync } from "node:fs";
import type { InventoryProblem } from "../errors.ts";
import { secretRefs } from "../secret-refs.ts";
import type { HostUnderCheck } from "./host-check.ts";

/** Each { file } secret of the host that does not exist (after resolveLocalPaths: the paths are absolute). */
export function missingSecretFiles({ settings, entry, pos }: HostUnderCheck): InventoryProblem[] {
  return secretRefs(settings).flatMap((s) => {
    if (!("file" in s.ref)) return [];
    try {
      statSync(s.ref.file);
      return [];
    } catch {
      return [entry.placed(pos, [...s.at, "file"], `secret file ${s.ref.file} does not exist; give a readable file (relative paths are relative to the inventory)`)];
    }
  });
}
