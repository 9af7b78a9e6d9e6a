// The roles the engine works with. The engine never imports the role
// registry: the composition root (src/cli/wiring.ts, which the command, the
// tests and the benchmarks load) hands the registered roles over once, and
// every engine function reads them from here.
import type { Role } from "../../roles/types.ts";

let current: readonly Role[] | undefined;

/** Hands the engine its roles; a second call with other roles replaces them (tests of a made-up role do). */
export function useCatalog(roles: readonly Role[]): void {
  current = roles;
}

/** The roles handed over by the composition root. */
export function catalogRoles(): readonly Role[] {
  if (!current) throw new Error("the engine has no roles: the composition root hands them over with useCatalog (src/cli/wiring.ts)");
  return current;
}
