// The rules of a host's roles (role-list.ts for what holds for every role,
// then each role's own cross-field rules), each problem placed where the
// field it names is set: at the most specific level of the host it is about
// (a fleet-level rule may name another host), else at that host's entry.
// Problems about the roles list itself are placed at that list.
import type { CatalogRole, HostConfig, RuleProblem } from "../catalog.ts";
import type { InventoryProblem } from "../errors.ts";
import type { HostEntry } from "./host-entries.ts";
import type { Positions } from "./positions.ts";
import { RoleList } from "./role-list.ts";

export function roleProblems(
  host: HostConfig,
  fleet: readonly HostConfig[],
  entries: ReadonlyMap<string, HostEntry>,
  roles: ReadonlyMap<string, CatalogRole>,
  pos: Positions,
): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  const entry = entries.get(host.name)!;
  const place = (p: RuleProblem) => {
    const at = (p.host && entries.get(p.host)) || entry;
    const level = p.field && pos.levelSetting(at.levels, p.field);
    out.push(level ? pos.problem([...level, ...p.field!], p.message) : pos.problem(at.path, p.message, true));
  };
  const rolesAt = pos.levelSetting(entry.levels, ["roles"]);
  const placeRoles = (message: string) => out.push(rolesAt ? pos.problem([...rolesAt, "roles"], message) : pos.problem(entry.path, message, true));
  const list = new RoleList(host);
  for (const name of host.roles) {
    const role = roles.get(name)!;
    const { problems, usable } = list.next(role);
    problems.forEach(placeRoles);
    if (usable) for (const p of role.rules?.(host, fleet) ?? []) place(p);
  }
  return out;
}
