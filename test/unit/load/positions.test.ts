import { describe, expect, it } from "vitest";
import { fieldName, pathAtOffset } from "../../../src/inventory/load/positions.ts";
import { readYaml } from "../../../src/inventory/load/yaml-syntax.ts";

const TEXT = "defaults:\n  domain: example.org\nhosts:\n  web1:\n    relay: { host: r, port: 25 }\n    roles: [a, b]\n";

describe("fieldName", () => {
  it("joins keys with '.', quotes unusual keys, cuts after 12, names the document", () => {
    expect(fieldName(["hosts", "web1", "relay", "port"])).toBe("hosts.web1.relay.port");
    expect(fieldName(["roles", 0])).toBe("roles.0");
    expect(fieldName(["hosts", "web1\n"])).toBe('hosts."web1\\n"');
    expect(fieldName(Array.from({ length: 14 }, (_, i) => `k${i}`))).toBe(`${Array.from({ length: 12 }, (_, i) => `k${i}`).join(".")}...`);
    expect(fieldName([])).toBe("(document)");
  });
});

describe("positions", () => {
  const pos = readYaml(TEXT, "inventory.yaml");

  it("a path's value, or its key with keyOfLast", () => {
    expect(pos.at(["hosts", "web1", "relay", "port"])).toEqual({ line: 5, column: 29 });
    expect(pos.at(["hosts", "web1"], true)).toEqual({ line: 4, column: 3 });
    expect(pos.at(["hosts", "web1", "roles", 1])).toEqual({ line: 6, column: 16 });
  });

  it("a path that is not there: its deepest ancestor that is", () => {
    expect(pos.at(["hosts", "web1", "relay", "tls"])).toEqual({ line: 5, column: 12 });
    expect(pos.at(["groups", "x"])).toEqual({ line: 1, column: 1 });
  });

  it("a problem names the file, the position and the field", () => {
    expect(pos.problem(["defaults", "domain"], "bad")).toEqual({ file: "inventory.yaml", line: 2, column: 11, field: "defaults.domain", message: "bad" });
  });

  it("an offset the parser reports is named by the keys around it; before any key, the document", () => {
    expect(pathAtOffset(pos.doc, TEXT.indexOf("25"))).toEqual(["hosts", "web1", "relay", "port"]);
    expect(pos.problemAtOffset(TEXT.indexOf("b]"), "x")).toMatchObject({ line: 6, column: 16, field: "hosts.web1.roles.1" });
    expect(pathAtOffset(readYaml("# nothing\n", "f").doc, 0)).toEqual(["(document)"]);
  });

  it("the most specific level that sets a path", () => {
    const levels = readYaml("defaults: { relay: { host: a } }\nhosts:\n  h: { relay: { port: 1 } }\n", "f");
    const of = [["defaults"], ["hosts", "h"]];
    expect(levels.levelSetting(of, ["relay", "port"])).toEqual(["hosts", "h"]);
    expect(levels.levelSetting(of, ["relay", "host"])).toEqual(["defaults"]);
    expect(levels.levelSetting(of, ["relay"])).toEqual(["hosts", "h"]);
    expect(levels.levelSetting(of, ["transport"])).toBeUndefined();
  });
});
