// The hosts of the file and where each one's settings are: a host of a group
// has three levels (defaults, its group, itself), a host under `hosts` two.
// Each host name is one a config file and a shell can take, and names one
// host only.
import type { InventoryProblem } from "../errors.ts";
import { isValidHostName, type InventoryFile } from "../schema.ts";
import type { Path, Positions } from "./positions.ts";

export class HostEntry {
  constructor(
    readonly name: string,
    readonly group: string | undefined,
    /** Where the host's settings are, most general first: defaults, group, host. */
    readonly levels: Path[],
  ) {}

  /** The host's own entry in the file. */
  get path(): Path {
    return this.levels.at(-1)!;
  }

  /** A problem at `p` (under the host's settings), placed at the most specific level that sets it, else under the host. */
  placed(pos: Positions, p: Path, message: string): InventoryProblem {
    return pos.problem([...(pos.levelSetting(this.levels, p) ?? this.path), ...p], message);
  }
}

/** The hosts of the groups, in file order, then those under `hosts`. */
export function hostEntries(inv: InventoryFile): HostEntry[] {
  const entries: HostEntry[] = [];
  for (const [gname, group] of Object.entries(inv.groups ?? {})) {
    for (const hname of Object.keys(group.hosts ?? {})) {
      entries.push(new HostEntry(hname, gname, [["defaults"], ["groups", gname], ["groups", gname, "hosts", hname]]));
    }
  }
  for (const hname of Object.keys(inv.hosts ?? {})) entries.push(new HostEntry(hname, undefined, [["defaults"], ["hosts", hname]]));
  return entries;
}

/** An inventory without hosts is a mistake, not an empty fleet. */
export function noHostsProblems(entries: readonly HostEntry[], pos: Positions): InventoryProblem[] {
  if (entries.length > 0) return [];
  const where = pos.has(["hosts"]) ? ["hosts"] : pos.has(["groups"]) ? ["groups"] : ["hosts"];
  return [pos.problem(where, "the inventory defines no hosts; add groups.<group>.hosts or hosts", true)];
}

/** The names of the hosts checked so far: each allowed, each defined once. */
export class HostNames {
  /** Name -> where it was defined ("group zones", "hosts"). */
  private readonly seen = new Map<string, string>();

  constructor(private readonly pos: Positions) {}

  /** What is wrong with the name of `entry` (nothing: it is taken). */
  problems(entry: HostEntry): InventoryProblem[] {
    if (!isValidHostName(entry.name)) {
      return [this.pos.problem(entry.path, `host name '${entry.name}' is not allowed; letters, digits, '.', '_' and '-' (up to 63)`, true)];
    }
    const where = entry.group ? `group ${entry.group}` : "hosts";
    const prev = this.seen.get(entry.name);
    if (prev) return [this.pos.problem(entry.path, `host '${entry.name}' is defined twice (in ${prev} and ${where})`, true)];
    this.seen.set(entry.name, where);
    return [];
  }
}
