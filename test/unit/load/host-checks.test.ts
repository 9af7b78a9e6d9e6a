// The checks of a merged host: its local paths, a root prefix that is the
// whole machine, what --untrusted refuses, secret files that do not exist.
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { formatProblem } from "../../../src/inventory/errors.ts";
import type { HostCheck } from "../../../src/inventory/load/host-check.ts";
import { sandboxRootProblems } from "../../../src/inventory/load/sandbox-root.ts";
import { missingSecretFiles } from "../../../src/inventory/load/secret-files.ts";
import { untrustedProblems } from "../../../src/inventory/load/untrusted.ts";
import { mergedOf } from "./catalog.ts";

const hostWith = (settings: string, defaults = "") => `defaults:\n  domain: example.org\n  platform: linux\n  roles: [store]\n${defaults}hosts:\n  h:\n${settings}`;
const check = (fn: HostCheck, text: string) => fn(mergedOf(text, "h")).map(formatProblem);

describe("local paths", () => {
  it("a local root, a key file and a secret file are made absolute, relative to the inventory; a remote root is left as it is", () => {
    expect(mergedOf(hostWith("    transport: { type: local, root: sandbox/h }\n"), "h").settings.transport).toEqual({ type: "local", root: "/srv/fleet/sandbox/h" });
    expect(mergedOf(hostWith("    transport: { type: ssh, address: h, identityFile: keys/id, root: /srv/h }\n"), "h").settings.transport).toMatchObject({
      identityFile: "/srv/fleet/keys/id",
      root: "/srv/h",
    });
    expect(mergedOf(hostWith("    transport: { type: zlogin, zone: z, via: { address: gz, identityFile: ../k } }\n"), "h").settings.transport).toMatchObject({
      via: { identityFile: "/srv/k" },
    });
    expect(mergedOf(hostWith("    store: { password: { file: secrets/pw } }\n"), "h").settings.store).toEqual({ password: { file: "/srv/fleet/secrets/pw" } });
    expect(mergedOf(hostWith("    store: { password: { file: /etc/../pw } }\n"), "h").settings.store).toEqual({ password: { file: "/pw" } });
  });
});

describe("sandbox root", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-root-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("a root that is /, climbs to / or is a symlink to / is refused where it is set", () => {
    expect(check(sandboxRootProblems, hostWith("    transport: { type: local, root: / }\n"))).toEqual([
      "inventory.yaml:7:37: hosts.h.transport.root: root / is the whole machine, not a sandbox; leave root out to manage the machine itself, with owners, packages and services",
    ]);
    expect(check(sandboxRootProblems, hostWith("    transport: { type: local, root: ../../.. }\n"))).toEqual([expect.stringContaining("root / is the whole machine")]);
    symlinkSync("/", path.join(tmp, "slash"));
    expect(check(sandboxRootProblems, hostWith(`    transport: { type: local, root: ${tmp}/slash }\n`))).toEqual([
      expect.stringContaining(`hosts.h.transport.root: root ${tmp}/slash (which is /) is the whole machine`),
    ]);
  });

  it("set in defaults: refused there", () => {
    expect(check(sandboxRootProblems, hostWith("    transport: { type: local }\n", "  transport: { type: local, root: / }\n"))).toEqual([
      expect.stringMatching(/^inventory\.yaml:5:35: defaults\.transport\.root: root \/ is the whole machine/),
    ]);
  });

  it("an ssh root of / too; a root that is not there yet, or a directory, is a sandbox", () => {
    expect(check(sandboxRootProblems, hostWith("    transport: { type: ssh, address: h, root: / }\n"))).toEqual([expect.stringContaining("root / is the whole machine")]);
    expect(check(sandboxRootProblems, hostWith(`    transport: { type: local, root: ${tmp}/not-yet }\n`))).toEqual([]);
    expect(check(sandboxRootProblems, hostWith(`    transport: { type: local, root: ${tmp} }\n`))).toEqual([]);
    expect(check(sandboxRootProblems, hostWith("    transport: { type: local }\n"))).toEqual([]);
  });
});

describe("--untrusted", () => {
  it("refuses secret commands and allowLocalCommands, each where it is set, the commands first", () => {
    const text = hostWith("    transport: { type: ssh, address: h, allowLocalCommands: true }\n", "  store: { password: { command: pass x } }\n");
    expect(check(untrustedProblems, text)).toEqual([
      "inventory.yaml:5:33: defaults.store.password.command: a secret command is refused under --untrusted: an inventory under review may not run commands on this machine",
      "inventory.yaml:8:61: hosts.h.transport.allowLocalCommands: allowLocalCommands is refused under --untrusted: an inventory under review may not run commands on this machine",
    ]);
  });

  it("refuses allowLocalCommands of the ssh settings a zone or a jail is reached through", () => {
    for (const t of ["{ type: zlogin, zone: z", "{ type: jexec, jail: j"]) {
      expect(check(untrustedProblems, hostWith(`    transport: ${t}, via: { address: gz, allowLocalCommands: true } }\n`))).toEqual([
        expect.stringMatching(/^inventory\.yaml:7:\d+: hosts\.h\.transport\.via\.allowLocalCommands: allowLocalCommands is refused under --untrusted/),
      ]);
    }
  });

  it("lets env and file secrets through, and allowLocalCommands: false", () => {
    expect(check(untrustedProblems, hostWith("    store: { password: { env: PW } }\n    transport: { type: ssh, address: h, allowLocalCommands: false }\n"))).toEqual([]);
  });
});

describe("secret files", () => {
  it("one that does not exist is refused at its line, naming the path looked for", () => {
    expect(check(missingSecretFiles, hostWith("    store: { password: { file: secrets/nope } }\n"))).toEqual([
      "inventory.yaml:7:32: hosts.h.store.password.file: secret file /srv/fleet/secrets/nope does not exist; give a readable file (relative paths are relative to the inventory)",
    ]);
  });

  it("one that exists is not read here", () => {
    expect(check(missingSecretFiles, hostWith(`    store: { password: { file: ${fileURLToPath(import.meta.url)} } }\n`))).toEqual([]);
  });
});
