// A root prefix makes a host a sandbox: owners, packages and services are
// skipped. A prefix that is / (written so, climbing there, or a symlink to
// it) would manage this machine without them, so it is refused.
import { realpathSync } from "node:fs";
import type { InventoryProblem } from "../errors.ts";
import type { HostUnderCheck } from "./host-check.ts";

/** The refusal of a root prefix that is / (after resolveLocalPaths: a root on this machine is absolute, and its links are followed). */
export function sandboxRootProblems({ settings, entry, pos, transport }: HostUnderCheck): InventoryProblem[] {
  const root = settings.transport.root;
  if (root === undefined || root === "") return [];
  const here = transport.localPaths.some((p) => p.length === 1 && p[0] === "root");
  let real = root;
  try {
    real = here ? realpathSync(root) : root;
  } catch {
    // not there yet: the apply creates it
  }
  if (real !== "/") return [];
  const which = root === "/" ? "/" : `${root} (which is /)`;
  return [
    entry.placed(pos, ["transport", "root"], `root ${which} is the whole machine, not a sandbox; leave root out to manage the machine itself, with owners, packages and services`),
  ];
}
