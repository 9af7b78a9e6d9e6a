// A catalog of made-up roles for the loader's unit tests, so they show what
// the loader does whatever roles the registry holds.
import path from "node:path";
import { z } from "zod";
import type { CatalogRole, HostConfig, InventoryCatalog, RuleProblem } from "../../../src/inventory/catalog.ts";
import { formatProblem } from "../../../src/inventory/errors.ts";
import { secretRef } from "../../../src/inventory/fields.ts";
import { documentValue } from "../../../src/inventory/load/aliases.ts";
import { compile } from "../../../src/inventory/load/compiled.ts";
import { fileShape } from "../../../src/inventory/load/file-shape.ts";
import type { HostUnderCheck } from "../../../src/inventory/load/host-check.ts";
import { hostEntries } from "../../../src/inventory/load/host-entries.ts";
import { mergedHost } from "../../../src/inventory/load/host-merge.ts";
import { resolveLocalPaths } from "../../../src/inventory/load/local-paths.ts";
import { readYaml } from "../../../src/inventory/load/yaml-syntax.ts";
import { builtinTransports } from "../../../src/inventory/schema.ts";

export const FILE = "/srv/fleet/inventory.yaml";

const mta = (name: string, platforms: string[]): CatalogRole => ({
  name,
  sections: { [name]: z.strictObject({ port: z.number().int().optional(), mode: z.enum(["fast", "safe"]).optional() }) },
  platforms,
  exclusive: "mta",
});

/** A role whose rule needs `store.user` and names the host it points at. */
const store: CatalogRole = {
  name: "store",
  sections: { store: z.strictObject({ user: z.string().optional(), password: secretRef.optional(), peer: z.string().optional() }) },
  platforms: ["linux"],
  rules(host: HostConfig, fleet: readonly HostConfig[]): RuleProblem[] {
    const s = host.store as { user?: string; peer?: string } | undefined;
    const out: RuleProblem[] = [];
    if (!s?.user) out.push({ message: "role store needs store.user" });
    if (s?.peer && !fleet.some((h) => h.name === s.peer)) out.push({ field: ["store", "peer"], message: `no host ${s.peer}` });
    if (s?.peer) out.push({ host: s.peer, message: `host ${host.name} stores its mail here` });
    return out;
  },
};

export const catalog: InventoryCatalog = {
  platforms: ["linux", "bsd"],
  transports: builtinTransports,
  roles: [mta("alpha", ["linux", "bsd"]), mta("beta", ["linux"]), store],
};

/** The compiled catalog and the document of `text`, as the checks take them. */
export function loaded(text: string, c: InventoryCatalog = catalog) {
  return { compiled: compile(c), pos: readYaml(text, "inventory.yaml") };
}

/** The file of `text` checked up to its entries. */
export function entriesOf(text: string, c: InventoryCatalog = catalog) {
  const { compiled, pos } = loaded(text, c);
  const inv = fileShape(documentValue(pos).value, compiled, pos).value!;
  return { compiled, pos, inv, entries: hostEntries(inv) };
}

/** Host `name` of `text` merged (it must be valid), its local paths resolved against the directory of FILE, as the host checks get it. */
export function mergedOf(text: string, name: string, c: InventoryCatalog = catalog): HostUnderCheck {
  const { compiled, pos, inv, entries } = entriesOf(text, c);
  const entry = entries.find((e) => e.name === name)!;
  const merged = mergedHost(entry, inv, compiled, pos);
  if (merged.problems) throw new Error(merged.problems.map(formatProblem).join("\n"));
  const host = { settings: merged.value, entry, pos, transport: compiled.transports.get(merged.value.transport.type)! };
  resolveLocalPaths(host.settings, host.transport, path.dirname(FILE));
  return host;
}
