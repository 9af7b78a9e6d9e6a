// What holds for every role, whatever it is: listed once for a host, on a
// platform it supports, and at most one role of each exclusive group (one
// MTA per host). Read in the order the host lists its roles.
import type { CatalogRole } from "../catalog.ts";

export class RoleList {
  private readonly listed = new Set<string>();
  /** Exclusive group -> the role of it seen last. */
  private readonly exclusive = new Map<string, string>();

  constructor(private readonly host: { name: string; platform: string }) {}

  /** What is wrong with the next role of the list; not `usable`: it is not looked at further (its rules do not run). */
  next(role: CatalogRole): { problems: string[]; usable: boolean } {
    if (this.listed.has(role.name)) return { problems: [`role ${role.name} is listed twice for host ${this.host.name}; list each role once`], usable: false };
    this.listed.add(role.name);
    if (!role.platforms.includes(this.host.platform)) {
      return { problems: [`role ${role.name} does not support platform ${this.host.platform}; it runs on ${role.platforms.join(", ")}`], usable: false };
    }
    if (!role.exclusive) return { problems: [], usable: true };
    const other = this.exclusive.get(role.exclusive);
    this.exclusive.set(role.exclusive, role.name);
    return { problems: other ? [`roles ${other} and ${role.name} exclude each other (one ${role.exclusive.toUpperCase()} per host); keep one`] : [], usable: true };
  }
}
