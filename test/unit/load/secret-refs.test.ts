import { describe, expect, it } from "vitest";
import type { HostConfig } from "../../../src/inventory/catalog.ts";
import { isSecretRef, secretEnvNames, secretRefs } from "../../../src/inventory/secret-refs.ts";

describe("secret references", () => {
  it("a mapping of exactly one of env, file and command, holding a string", () => {
    expect([{ env: "PW" }, { file: "pw" }, { command: "pass x" }].every(isSecretRef)).toBe(true);
    expect([{ env: "PW", file: "pw" }, { vault: "x" }, { env: 1 }, ["env"], "env", null, {}].some(isSecretRef)).toBe(false);
  });

  it("are found wherever they stand, lists included, with the path to each", () => {
    const settings = {
      relay: { auth: { user: "u", password: { file: "pw" } } },
      mail: { domains: { "one.example": { users: { bob: { password: { env: "BOB" } } } } } },
      list: [{ command: "c" }],
    };
    expect(secretRefs(settings)).toEqual([
      { at: ["relay", "auth", "password"], ref: { file: "pw" } },
      { at: ["mail", "domains", "one.example", "users", "bob", "password"], ref: { env: "BOB" } },
      { at: ["list", 0], ref: { command: "c" } },
    ]);
  });

  it("the environment variables of a fleet, each once", () => {
    const host = (pw: string) => ({ relay: { auth: { password: { env: pw } } } }) as unknown as HostConfig;
    expect(secretEnvNames([host("A"), host("B"), host("A")])).toEqual(["A", "B"]);
  });
});
