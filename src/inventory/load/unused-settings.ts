// Settings that no role reads where they are set: a section (postfix:) on a
// host whose roles have none that reads it, adminaddr or relay where no role
// uses them. Set on a host itself, that is a mistake and refused; set in
// defaults or a group that no host under it reads, a warning. A setting a
// level shares is read by those of its hosts whose roles read it.
import type { CatalogRole, HostConfig } from "../catalog.ts";
import type { InventoryProblem } from "../errors.ts";
import type { HostEntry } from "./host-entries.ts";
import type { Path, Positions } from "./positions.ts";

/** Each setting roles read (their sections, and the host settings they declare) -> the roles reading it, in catalog order. */
function readersOf(roles: ReadonlyMap<string, CatalogRole>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const role of roles.values()) {
    for (const key of [...Object.keys(role.sections), ...(role.settings ?? [])]) out.set(key, [...(out.get(key) ?? []), role.name]);
  }
  return out;
}

const list = (xs: readonly string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(", ")} or ${xs.at(-1)}` : (xs[0] ?? "none"));

/** Problems (at hosts) and warnings (at defaults and groups) for settings no role reads where they are set. */
export function unusedSettings(
  hosts: readonly HostConfig[],
  entries: ReadonlyMap<string, HostEntry>,
  roles: ReadonlyMap<string, CatalogRole>,
  pos: Positions,
): { problems: InventoryProblem[]; warnings: InventoryProblem[] } {
  const readers = readersOf(roles);
  /** Each level (defaults, a group, a host) -> the hosts under it. */
  const levels = new Map<string, { path: Path; hosts: HostConfig[] }>();
  for (const h of hosts) {
    for (const path of entries.get(h.name)!.levels) {
      const key = JSON.stringify(path);
      const level = levels.get(key) ?? { path, hosts: [] };
      level.hosts.push(h);
      levels.set(key, level);
    }
  }
  const problems: InventoryProblem[] = [];
  const warnings: InventoryProblem[] = [];
  for (const { path, hosts: under } of levels.values()) {
    for (const [key, by] of readers) {
      if (!pos.has([...path, key]) || under.some((h) => h.roles.some((r) => by.includes(r)))) continue;
      const theirRoles = [...new Set(under.flatMap((h) => h.roles))];
      const why = `${key} is read by ${list(by)}`;
      if (path[0] === "defaults" || (path[0] === "groups" && path.length === 2)) {
        const who = path[0] === "defaults" ? "no host of the inventory" : `no host of group ${String(path[1])}`;
        warnings.push(pos.problem([...path, key], `warning: ${who} has a role that reads it (${why}; they run ${list(theirRoles)}), so it has no effect`, true));
      } else {
        const h = under[0]!;
        problems.push(pos.problem([...path, key], `no role of host ${h.name} reads it (${why}; ${h.name} runs ${list(h.roles)}); remove it, or give the host a role that reads it`, true));
      }
    }
  }
  return { problems, warnings };
}
