// --limit: host and group names, globs, comma-separated or repeated; a
// pattern that matches nothing is an error naming the hosts there are.
import { describe, expect, it } from "vitest";
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { SelectionError, selectHosts } from "../../src/cli/select.ts";

const hosts = [
  { name: "web1", group: "zones" },
  { name: "web2", group: "zones" },
  { name: "web10", group: "zones" },
  { name: "db1", group: "zones" },
  { name: "mx.shop", group: "scanning" },
  { name: "pi" },
] as HostConfig[];
const names = (...limits: string[]) => selectHosts(hosts, limits).map((h) => h.name);

describe("--limit", () => {
  it("names, groups and globs, in inventory order, each host once", () => {
    expect(names()).toEqual(["web1", "web2", "web10", "db1", "mx.shop", "pi"]);
    expect(names("pi,web1")).toEqual(["web1", "pi"]);
    expect(names("web*", "zones")).toEqual(["web1", "web2", "web10", "db1"]);
    expect(names("web?")).toEqual(["web1", "web2"]);
    expect(names("web[12]")).toEqual(["web1", "web2"]);
    expect(names("web{1..2}")).toEqual(["web1", "web2"]);
    expect(names("*.shop")).toEqual(["mx.shop"]);
    expect(names("scan*")).toEqual(["mx.shop"]);
  });

  it("a dot or a plus is itself, not a regular expression", () => {
    expect(() => names("web.")).toThrow(SelectionError);
    expect(() => names("mx+shop")).toThrow(SelectionError);
  });

  it("a leading ! is not 'all but' (patterns add up): it matches no host", () => {
    expect(() => names("!web1")).toThrow("--limit !web1 matches no host or group (hosts: web1, web2, web10, db1, mx.shop, pi)");
  });
});
