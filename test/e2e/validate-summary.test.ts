// validate of a big fleet says how many hosts in which groups, on one line;
// the names come one per line with --hosts. A small fleet is named as before.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { mailfleet } from "../support/cli.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "mf-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const zones = (prefix: string, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { transport: { type: "local", root: `sandbox/${prefix}${i}` } }]));

describe("validate of a fleet of 1,000 hosts", () => {
  const inventory = path.join(dir, "fleet.yaml");
  writeFileSync(
    inventory,
    YAML.stringify({
      defaults: { domain: "example.org", relay: { host: "10.200.0.7" } },
      groups: {
        zones: { platform: "smartos", roles: ["nullmailer"], hosts: zones("zone", 800) },
        linux: { platform: "debian", roles: ["nullmailer"], hosts: zones("deb", 150) },
        pis: { platform: "debian", roles: ["nullmailer"], hosts: zones("pi", 49) },
      },
      hosts: { lone: { platform: "debian", roles: ["nullmailer"], transport: { type: "local", root: "sandbox/lone" } } },
    }),
  );

  it("summarises by group on one line, and lists every name with --hosts", async () => {
    const r = await mailfleet(["validate", "-i", inventory]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`inventory ${inventory} is valid: 1,000 hosts in 4 groups (zones 800, linux 150, pis 49, (no group) 1); --hosts lists them`);
    const listed = await mailfleet(["validate", "-i", inventory, "--hosts"]);
    const lines = listed.stdout.trim().split("\n");
    expect(lines[0]).toBe(`inventory ${inventory} is valid: 1,000 hosts`);
    expect(lines).toHaveLength(1001);
    expect(lines.slice(1, 3)).toEqual(["zone0", "zone1"]);
  });
});
