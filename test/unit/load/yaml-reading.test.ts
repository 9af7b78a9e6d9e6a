// The checks that read the file before any schema: its encoding, YAML
// syntax (repeated keys among it), the tree's depth and keys, aliases.
import { describe, expect, it } from "vitest";
import { InventoryError, formatProblem } from "../../../src/inventory/errors.ts";
import { MAX_ALIASES, documentValue } from "../../../src/inventory/load/aliases.ts";
import { decodeInventory } from "../../../src/inventory/load/encoding.ts";
import { deepIndentOffset, deepTextProblems, MAX_DEPTH, treeShapeProblems } from "../../../src/inventory/load/tree-shape.ts";
import { readYaml, syntaxProblems } from "../../../src/inventory/load/yaml-syntax.ts";

const F = "inventory.yaml";
const text = (problems: { file: string; line: number; column: number; field: string; message: string }[]) => problems.map(formatProblem);

describe("encoding", () => {
  const refusal = (bytes: Buffer) => {
    try {
      decodeInventory(bytes, F);
    } catch (e) {
      expect(e).toBeInstanceOf(InventoryError);
      return (e as InventoryError).message;
    }
    return "accepted";
  };

  it("UTF-8 is the text; a byte order mark of UTF-8 is dropped", () => {
    expect(decodeInventory(Buffer.from("a: é\n"), F)).toBe("a: é\n");
    expect(decodeInventory(Buffer.from("\ufeffa: 1\n"), F)).toBe("a: 1\n");
  });

  it("UTF-16, a NUL and Latin-1 are refused at the first byte that is not UTF-8", () => {
    expect(refusal(Buffer.from([0xff, 0xfe, 0x61, 0]))).toBe(`${F}:1:1: the file is not UTF-8 YAML: it starts with a UTF-16 byte order mark; save it as UTF-8`);
    expect(refusal(Buffer.from("a\0", "utf8"))).toBe(`${F}:1:2: the file is not UTF-8 YAML: a NUL byte (UTF-16 or UTF-32 text?); save it as UTF-8`);
    expect(refusal(Buffer.from("a: 1\nb: caf\xe9\n", "latin1"))).toBe(
      `${F}:2:7: the file is not UTF-8 YAML: a byte sequence that is not UTF-8 (Latin-1 or UTF-16 text?); save it as UTF-8`,
    );
  });
});

describe("YAML syntax", () => {
  it("a key repeated in a mapping, where it is repeated", () => {
    expect(text(syntaxProblems(readYaml("defaults:\n  domain: a\n  adminaddr: b\n  domain: c\n", F)))).toEqual([
      `${F}:4:3: defaults.domain: YAML: Map keys must be unique: domain is set twice in this mapping, first at 2:3; keep one`,
    ]);
  });

  it("a key repeated whose first value is empty: at the repeat too, not at the end of the line before", () => {
    expect(text(syntaxProblems(readYaml("defaults:\n  domain:\n  adminaddr: b\n  domain: c\n", F)))).toEqual([
      `${F}:4:3: defaults.domain: YAML: Map keys must be unique: domain is set twice in this mapping, first at 2:3; keep one`,
    ]);
    expect(text(syntaxProblems(readYaml("hosts:\n  - a: 1\n    a:\n", F)))).toEqual([`${F}:3:5: hosts.0.a: YAML: Map keys must be unique: a is set twice in this mapping, first at 2:5; keep one`]);
  });

  it("after a tab, the field is named from the text before it, and what the tab breaks further on is left out", () => {
    const tabbed = "groups:\n  zones:\n    platform: smartos\n\troles: [x]\n    hosts: {}\n";
    expect(text(syntaxProblems(readYaml(tabbed, F)))).toEqual([`${F}:4:1: groups.zones.platform: YAML: Tabs are not allowed as indentation`]);
    const inKey = "groups:\n  zones:\n\tplatform: smartos\n    roles: [x]\n";
    expect(text(syntaxProblems(readYaml(inKey, F)))).not.toContainEqual(expect.stringContaining("smartos roles"));
  });

  it("a syntax error, with the field around it", () => {
    expect(text(syntaxProblems(readYaml("defaults:\n  domain: [example.org\n", F)))).toEqual([
      expect.stringMatching(new RegExp(`^${F}:3:1: defaults\\.domain\\.0: YAML: Flow sequence`)),
    ]);
  });

  it("one problem of each kind, five at the most", () => {
    const repeated = Array.from({ length: 8 }, (_, i) => `k${i}: 1\nk${i}: 2\n`).join("");
    expect(syntaxProblems(readYaml(repeated, F))).toHaveLength(1);
  });

  it("nothing for a sound document", () => {
    expect(syntaxProblems(readYaml("defaults: { domain: example.org }\n", F))).toEqual([]);
  });
});

describe("tree shape", () => {
  it(`nested more than ${MAX_DEPTH} levels: refused at the first node too deep`, () => {
    const deep = `defaults:\n  domain: ${"[".repeat(40)}${"]".repeat(40)}\n`;
    expect(text(treeShapeProblems(readYaml(deep, F)))).toEqual([
      expect.stringMatching(new RegExp(`^${F}:2:\\d+: defaults\\.domain(\\.0)+\\.\\.\\.: nested more than 32 levels deep; an inventory needs about 8$`)),
    ]);
    const justSo = `defaults:\n  domain: ${"[".repeat(MAX_DEPTH - 2)}${"]".repeat(MAX_DEPTH - 2)}\n`;
    expect(treeShapeProblems(readYaml(justSo, F))).toEqual([]);
  });

  it("indented 2,000 levels deep with a key after them: refused where it passes 32 levels, not a stack overflow", () => {
    const deep = `defaults:\n${Array.from({ length: 2000 }, (_, i) => `${" ".repeat(i + 2)}k${i}:`).join("\n")}\ngroups: {}\n`;
    expect(deepIndentOffset(deep)).toBeGreaterThan(0);
    expect(text(deepTextProblems(deep, F))).toEqual([expect.stringMatching(new RegExp(`^${F}:33:\\d+: defaults\\.k0\\.k1.*: nested more than 32 levels deep`))]);
    const scalar = `a: |\n${Array.from({ length: 300 }, (_, i) => `${" ".repeat(i + 2)}line ${i}`).join("\n")}\nb: 1\n`;
    expect(text(deepTextProblems(scalar, F))).toEqual([expect.stringMatching(new RegExp(`^${F}:257:1: YAML: indented more than 256 levels deep`))]);
    expect(deepTextProblems("defaults:\n  domain: example.org\n", F)).toEqual([]);
  });

  it("a key that is a list or a mapping", () => {
    expect(text(treeShapeProblems(readYaml("hosts:\n  ? [a, b]\n  : 1\n", F)))).toEqual([`${F}:2:5: hosts."?": a key is a list or a mapping; keys are plain names`]);
  });
});

describe("aliases", () => {
  it("resolved when they name an anchor before them", () => {
    expect(documentValue(readYaml("a: &x { k: v }\nb: *x\n", F))).toEqual({ value: { a: { k: "v" }, b: { k: "v" } } });
    expect(documentValue(readYaml("", F))).toEqual({ value: {} });
  });

  it("an alias to no anchor, at the alias", () => {
    expect(text(documentValue(readYaml("defaults:\n  domain: *dom\n", F)).problems!)).toEqual([
      `${F}:2:11: defaults.domain: YAML: alias *dom names no anchor (&dom) defined before it`,
    ]);
  });

  it(`aliases expanding past ${MAX_ALIASES} copies, at the first alias`, () => {
    const bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c]\n";
    expect(text(documentValue(readYaml(bomb, F)).problems!)).toEqual([
      `${F}:2:8: b.0: YAML: aliases expand to more than 100 copies (an alias bomb?); write the values out`,
    ]);
  });
});
