// What holds for every role (role-list), and the roles' own rules placed
// where their fields are set (role-rules).
import { describe, expect, it } from "vitest";
import type { HostConfig } from "../../../src/inventory/catalog.ts";
import { formatProblem } from "../../../src/inventory/errors.ts";
import { RoleList } from "../../../src/inventory/load/role-list.ts";
import { roleProblems } from "../../../src/inventory/load/role-rules.ts";
import { catalog, entriesOf, mergedOf } from "./catalog.ts";

const role = (name: string) => catalog.roles.find((r) => r.name === name)!;

describe("role list", () => {
  it("each role once, on a platform it supports, one of each exclusive group; a refused role is not looked at further", () => {
    const list = new RoleList({ name: "h", platform: "bsd" });
    expect(["alpha", "alpha", "beta", "store"].map((r) => list.next(role(r)))).toEqual([
      { problems: [], usable: true },
      { problems: ["role alpha is listed twice for host h; list each role once"], usable: false },
      { problems: ["role beta does not support platform bsd; it runs on linux"], usable: false },
      { problems: ["role store does not support platform bsd; it runs on linux"], usable: false },
    ]);
  });

  it("two of an exclusive group: the second names the first; a third names the second", () => {
    const list = new RoleList({ name: "h", platform: "linux" });
    const gamma = { ...role("alpha"), name: "gamma" };
    expect([role("alpha"), role("beta"), gamma].map((r) => list.next(r).problems)).toEqual([
      [],
      ["roles alpha and beta exclude each other (one MTA per host); keep one"],
      ["roles beta and gamma exclude each other (one MTA per host); keep one"],
    ]);
  });
});

describe("role rules", () => {
  const text = `defaults:
  domain: example.org
  platform: linux
groups:
  g:
    roles: [store, alpha, beta]
    hosts:
      a: { store: { peer: b } }
hosts:
  b: { roles: [store], store: { user: u, peer: nobody } }
`;
  const problems = () => {
    const { pos, entries } = entriesOf(text);
    const fleet = entries.map((e) => ({ ...mergedOf(text, e.name).settings, name: e.name, group: e.group }) as unknown as HostConfig);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const roles = new Map(catalog.roles.map((r) => [r.name, r]));
    return fleet.flatMap((h) => roleProblems(h, fleet, byName, roles, pos)).map(formatProblem);
  };

  it("a problem without a field: at the host; with a field: where it is set; about another host: at that host; about the list: at the list", () => {
    expect(problems()).toEqual([
      "inventory.yaml:8:7: groups.g.hosts.a: role store needs store.user",
      "inventory.yaml:10:3: hosts.b: host a stores its mail here",
      "inventory.yaml:6:12: groups.g.roles: roles alpha and beta exclude each other (one MTA per host); keep one",
      "inventory.yaml:10:48: hosts.b.store.peer: no host nobody",
      "inventory.yaml:10:3: hosts.b: host b stores its mail here",
    ]);
  });
});
