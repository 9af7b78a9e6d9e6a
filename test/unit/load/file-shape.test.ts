import { describe, expect, it } from "vitest";
import { formatProblem } from "../../../src/inventory/errors.ts";
import { documentValue } from "../../../src/inventory/load/aliases.ts";
import { fileShape } from "../../../src/inventory/load/file-shape.ts";
import { loaded } from "./catalog.ts";

function shape(text: string) {
  const { compiled, pos } = loaded(text);
  return fileShape(documentValue(pos).value, compiled, pos);
}
const problems = (text: string) => shape(text).problems?.map(formatProblem);

describe("the file's shape, level by level", () => {
  it("lets a sound file through, every level optional", () => {
    expect(shape("defaults: { platform: linux }\nhosts:\n  a: { roles: [alpha] }\n  b:\n").value).toEqual({
      defaults: { platform: "linux" },
      hosts: { a: { roles: ["alpha"] }, b: null },
    });
  });

  it("an unknown key, at the key, with the keys allowed there", () => {
    expect(problems("hosts:\n  a: { alpha: { prot: 1 } }\n")).toEqual(["inventory.yaml:2:17: hosts.a.alpha.prot: unknown key 'prot' (did you mean port?); allowed: port, mode"]);
    expect(problems("host:\n  a: {}\n")).toEqual(["inventory.yaml:1:1: host: unknown key 'host' (did you mean hosts?); allowed: defaults, groups, hosts"]);
  });

  it("a value not allowed: what was found and what is allowed", () => {
    expect(problems("groups:\n  g:\n    platform: plan9\n")).toEqual(['inventory.yaml:3:15: groups.g.platform: "plan9" is not allowed; allowed: linux, bsd']);
    expect(problems("defaults:\n  alpha: { port: fast }\n")).toEqual(['inventory.yaml:2:18: defaults.alpha.port: "fast" is not allowed; expected a number']);
  });

  it("a union: its forms; a discriminator: its values", () => {
    expect(problems("defaults:\n  store: { password: { vault: x } }\n")).toEqual([
      'inventory.yaml:2:22: defaults.store.password: a mapping is not one of the allowed forms: { env: NAME }, { file: path } or { command: "..." }',
    ]);
    expect(problems("defaults:\n  transport: { type: telnet }\n")).toEqual(['inventory.yaml:2:22: defaults.transport.type: "telnet" is not allowed; allowed: local, ssh, zlogin, jexec']);
  });

  it("every problem of the file, in file order", () => {
    expect(problems("hosts:\n  b: { platform: x }\ndefaults:\n  platform: y\n  domain: 1\n")?.map((l) => l.split(": ")[0])).toEqual([
      "inventory.yaml:2:18",
      "inventory.yaml:4:13",
      "inventory.yaml:5:11",
    ]);
  });
});
