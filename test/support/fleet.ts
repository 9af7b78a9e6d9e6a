// The example fleet (examples/zones.yaml) copied into a fresh directory, with
// a relay password so the tests can check that its value never leaks.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
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
