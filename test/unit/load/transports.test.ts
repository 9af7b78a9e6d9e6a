// What the loader knows of a transport comes from its schema, never its name:
// where it holds ssh settings (so --untrusted refuses their allowLocalCommands
// and their options are checked) and which of its fields are paths on this
// machine. A made-up transport reached through a parent host gets all of it
// without a line of the loader changing.
import { z } from "zod";
import { describe, expect, it } from "vitest";
import type { InventoryCatalog } from "../../../src/inventory/catalog.ts";
import { absolutePath } from "../../../src/inventory/fields.ts";
import { parseInventory } from "../../../src/inventory/load.ts";
import { builtinTransports, jexecTransport, localTransport, sshConnection, sshTransport, zloginTransport } from "../../../src/inventory/schema.ts";
import { localPathsIn, sshSettingsIn, viaHost } from "../../../src/inventory/transport-schema.ts";
import { inventoryErrors } from "../../support/inventory-errors.ts";
import { FILE, catalog } from "./catalog.ts";

/** A bhyve guest entered from its host: nothing the loader names. */
const bhyveTransport = z.strictObject({
  type: z.literal("bhyve"),
  vm: z.string().describe("the guest's name"),
  via: viaHost.optional().describe("ssh to the bhyve host"),
  root: absolutePath.optional(),
});
/** A transport that is itself an ssh connection, under another name. */
const moshTransport = z.strictObject({ type: z.literal("mosh"), ...sshConnection });

const withMore: InventoryCatalog = { ...catalog, transports: [...builtinTransports, bhyveTransport, moshTransport] };

describe("what a transport's schema says", () => {
  it("where it holds ssh settings", () => {
    expect([localTransport, sshTransport, zloginTransport, jexecTransport, bhyveTransport, moshTransport].map(sshSettingsIn)).toEqual([
      [],
      [[]],
      [["via"]],
      [["via"]],
      [["via"]],
      [[]],
    ]);
  });

  it("which of its fields are paths on this machine", () => {
    expect([localTransport, sshTransport, zloginTransport, bhyveTransport].map(localPathsIn)).toEqual([[["root"]], [["identityFile"]], [["via", "identityFile"]], [["via", "identityFile"]]]);
  });
});

describe("a made-up transport reached through a parent host", () => {
  const text = (host: string) => `defaults:
  domain: example.org
  platform: linux
  roles: [alpha]
groups:
  guests:
    transport: { type: bhyve, via: { address: vmhost.example.org, identityFile: keys/vmhost } }
    hosts:
      g1: { transport: { type: bhyve, vm: g1${host} } }
`;

  it("takes its ssh settings from one level and the rest from another; its key file is relative to the inventory", () => {
    const inv = parseInventory(text(""), FILE, withMore);
    expect(inv.hosts[0]!.transport).toEqual({ type: "bhyve", vm: "g1", via: { address: "vmhost.example.org", identityFile: "/srv/fleet/keys/vmhost" } });
  });

  it("--untrusted refuses its via.allowLocalCommands, where it is set", () => {
    const allowed = text(", via: { allowLocalCommands: true }");
    expect(parseInventory(allowed, FILE, withMore).hosts).toHaveLength(1);
    expect(inventoryErrors(() => parseInventory(allowed, FILE, withMore, { untrusted: true }))).toMatch(
      /^\S*inventory\.yaml:9:\d+: groups\.guests\.hosts\.g1\.transport\.via\.allowLocalCommands: allowLocalCommands is refused under --untrusted: an inventory under review may not run commands on this machine$/,
    );
  });

  it("an ssh option of its parent host that runs a command here needs allowLocalCommands", () => {
    expect(inventoryErrors(() => parseInventory(text(", via: { options: { ProxyCommand: /usr/local/bin/proxy } }"), FILE, withMore))).toMatch(
      /groups\.guests\.hosts\.g1\.transport\.via\.options\.ProxyCommand: .*allowLocalCommands: true$/,
    );
  });

  it("a transport that is an ssh connection itself: its allowLocalCommands refused too", () => {
    const mosh = "defaults: { domain: example.org, platform: linux, roles: [alpha] }\nhosts:\n  m: { transport: { type: mosh, address: m, allowLocalCommands: true } }\n";
    expect(inventoryErrors(() => parseInventory(mosh, FILE, withMore, { untrusted: true }))).toMatch(/:3:\d+: hosts\.m\.transport\.allowLocalCommands: allowLocalCommands is refused under --untrusted/);
  });

  it("a catalog without it refuses its type, naming those it has", () => {
    expect(inventoryErrors(() => parseInventory(text(""), FILE, catalog))).toMatch(/groups\.guests\.transport\.type: "bhyve" is not allowed; allowed: local, ssh, zlogin, jexec/);
  });
});
