// The hosts of the file: their entries and names, their levels merged and
// validated as one host.
import { describe, expect, it } from "vitest";
import { formatProblem } from "../../../src/inventory/errors.ts";
import { HostNames, noHostsProblems } from "../../../src/inventory/load/host-entries.ts";
import { mergedHost } from "../../../src/inventory/load/host-merge.ts";
import { entriesOf } from "./catalog.ts";

describe("host entries", () => {
  it("the hosts of the groups, then those under hosts, each with its levels", () => {
    const { entries } = entriesOf("hosts:\n  c: {}\ngroups:\n  g:\n    hosts: { a: {}, b: }\n");
    expect(entries.map((e) => [e.name, e.group, e.levels])).toEqual([
      ["a", "g", [["defaults"], ["groups", "g"], ["groups", "g", "hosts", "a"]]],
      ["b", "g", [["defaults"], ["groups", "g"], ["groups", "g", "hosts", "b"]]],
      ["c", undefined, [["defaults"], ["hosts", "c"]]],
    ]);
  });

  it("none: a problem at hosts, else groups, else the document's start", () => {
    const none = (text: string) => {
      const { entries, pos } = entriesOf(text);
      return noHostsProblems(entries, pos).map(formatProblem);
    };
    expect(none("defaults: {}\ngroups:\n  g: {}\n")).toEqual(["inventory.yaml:2:1: groups: the inventory defines no hosts; add groups.<group>.hosts or hosts"]);
    expect(none("defaults: {}\nhosts: {}\n")).toEqual(["inventory.yaml:2:1: hosts: the inventory defines no hosts; add groups.<group>.hosts or hosts"]);
    expect(none("defaults: {}\n")).toEqual(["inventory.yaml:1:1: hosts: the inventory defines no hosts; add groups.<group>.hosts or hosts"]);
    expect(none("hosts: { a: }\n")).toEqual([]);
  });

  it("a name not allowed, and a name defined twice (the second, naming the first)", () => {
    const { entries, pos } = entriesOf('groups:\n  g:\n    hosts: { a: {} }\nhosts:\n  a: {}\n  "a b": {}\n  c: {}\n');
    const names = new HostNames(pos);
    expect(entries.map((e) => names.problems(e).map(formatProblem))).toEqual([
      [],
      ["inventory.yaml:5:3: hosts.a: host 'a' is defined twice (in group g and hosts)"],
      ["inventory.yaml:6:3: hosts.\"a b\": host name 'a b' is not allowed; letters, digits, '.', '_' and '-' (up to 63)"],
      [],
    ]);
  });
});

describe("merged host", () => {
  const merged = (text: string, name = "h") => {
    const { compiled, pos, inv, entries } = entriesOf(text);
    return mergedHost(entries.find((e) => e.name === name)!, inv, compiled, pos);
  };
  const problems = (text: string, name?: string) => merged(text, name).problems?.map(formatProblem);

  it("defaults < group < host, the transport local when none is given", () => {
    const text = "defaults: { domain: example.org, alpha: { port: 25, mode: fast } }\ngroups:\n  g:\n    platform: linux\n    alpha: { port: 26 }\n    hosts:\n      h: { roles: [alpha], alpha: { mode: safe } }\n";
    expect(merged(text).value).toEqual({ domain: "example.org", platform: "linux", roles: ["alpha"], alpha: { port: 26, mode: "safe" }, transport: { type: "local" } });
  });

  it("what the merged host lacks: at the host, naming the field under it", () => {
    expect(problems("hosts:\n  h: { roles: [alpha], domain: example.org }\n")).toEqual([
      "inventory.yaml:2:3: hosts.h.platform: is required (set it in the host, its group or defaults); allowed: linux, bsd",
    ]);
  });

  it("a field missing inside a mapping: at the mapping in the most specific level that has it", () => {
    const text = "defaults:\n  domain: example.org\n  transport: { type: ssh }\nhosts:\n  h: { platform: linux, roles: [alpha], transport: { type: ssh, port: 22 } }\n";
    expect(problems(text)).toEqual(["inventory.yaml:5:52: hosts.h.transport.address: is required (set it in the host, its group or defaults): a string"]);
  });

  it("a value the merged host refuses: at the most specific level that sets it, under that level's name", () => {
    const fromDefaults = "defaults:\n  domain: example.org\n  roles: []\nhosts:\n  h: { platform: linux }\n";
    expect(problems(fromDefaults)).toEqual([expect.stringMatching(/^inventory\.yaml:3:10: defaults\.roles: .*at least one role$/)]);
  });
});
