// The example fleet (examples/zones.yaml) copied into a fresh directory, with
// a relay password so the tests can check that its value never leaks.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { planHost, prepareHost } from "../../src/engine/host.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import { REPO } from "./cli.ts";

export interface ExampleFleet {
  dir: string;
  inventory: string;
  /** Rewrites the inventory (e.g. to change one host's settings). */
  edit(change: (doc: YAML.Document) => void): void;
}

export function exampleFleet(opts: {
  /** { env: NAME } or { file: "secrets/relay-password" } (then `secret` is written there). */
  password: { env: string } | { file: string };
  secret: string;
  /** More zones besides web1 and db1, each with its own sandbox. */
  extraHosts?: string[];
}): ExampleFleet {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-fleet-"));
  const inventory = path.join(dir, "zones.yaml");
  const doc = YAML.parseDocument(readFileSync(path.join(REPO, "examples/zones.yaml"), "utf8"));
  doc.setIn(["defaults", "relay", "auth"], doc.createNode({ user: "relay-user", password: opts.password }));
  for (const h of opts.extraHosts ?? []) {
    doc.setIn(["groups", "zones", "hosts", h], doc.createNode({ transport: { type: "local", root: `sandbox/${h}` } }));
  }
  if ("file" in opts.password) {
    mkdirSync(path.dirname(path.join(dir, opts.password.file)), { recursive: true });
    writeFileSync(path.join(dir, opts.password.file), `${opts.secret}\n`, { mode: 0o600 });
  }
  writeFileSync(inventory, doc.toString());
  return {
    dir,
    inventory,
    edit(change) {
      const d = YAML.parseDocument(readFileSync(inventory, "utf8"));
      change(d);
      writeFileSync(inventory, d.toString());
    },
  };
}

/** web1 of a fresh example fleet (relay password in a file), planned through the engine: to run its apply script by hand. */
export async function plannedExampleHost(secret: string) {
  const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret });
  const host = parseInventory(readFileSync(fleet.inventory, "utf8"), fleet.inventory).hosts.find((h) => h.name === "web1")!;
  const root = path.join(fleet.dir, "sandbox/web1");
  const target = prepareHost(host, new LocalTransport(root), revealingResolver(fleet.dir));
  return { fleet, root, target, plan: await planHost(target) };
}
