// A root prefix makes a host a sandbox: owners, packages and services are
// skipped. A prefix that is / (written so, climbing there, or a symlink to
// it) would manage this machine without them, so it is refused.
import { realpathSync } from "node:fs";
import type { InventoryProblem } from "../errors.ts";
import type { HostEntry } from "./host-entries.ts";
import type { HostSettings } from "./host-merge.ts";
import type { Positions } from "./positions.ts";

/** The refusal of a root prefix that is / (after resolveLocalPaths: a local root is absolute). */
export function sandboxRootProblems(host: HostSettings, entry: HostEntry, pos: Positions): InventoryProblem[] {
  const root = host.transport.root;
  if (root === undefined || root === "") return [];
  let real = root;
  try {
    real = host.transport.type === "local" ? realpathSync(root) : root;
  } catch {
    // not there yet: the apply creates it
  }
  if (real !== "/") return [];
  const which = root === "/" ? "/" : `${root} (which is /)`;
  return [
    entry.placed(pos, ["transport", "root"], `root ${which} is the whole machine, not a sandbox; leave root out to manage the machine itself, with owners, packages and services`),
  ];
}
