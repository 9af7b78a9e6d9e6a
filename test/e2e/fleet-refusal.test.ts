// Refused means nothing written, on any host: an inventory that validate
// refuses (a role listed twice on one host) is applied to no host, and a host
// whose desired state cannot be built (DesiredStateError, a secret that
// cannot be read) stops the whole run before any host is probed, as Terraform
// refuses an invalid configuration. (A host refused for what is on it, a path
// of the wrong type, stops only itself: test/e2e/wrong-type.test.ts.)
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseInventory } from "../../src/engine/inventory.ts";
import { DesiredStateRefusal, planFleet, withTransports } from "../../src/engine/run.ts";
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { mailfleet, withoutProgress } from "../support/cli.ts";
import { exampleFleet } from "../support/fleet.ts";

const SECRET = "fleet-refusal-secret-0c2e";

describe("refused means nothing written, fleet-wide", () => {
  it("a role listed twice on one host: validate refuses it, and plan and apply touch no host", async () => {
    const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
    fleet.edit((doc) => doc.setIn(["groups", "zones", "hosts", "web1", "roles"], doc.createNode(["nullmailer", "nullmailer"])));
    const validate = await mailfleet(["validate", "-i", fleet.inventory]);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toMatch(/zones\.yaml:\d+:\d+: groups\.zones\.hosts\.web1\.roles.*nullmailer/);
    for (const cmd of [["plan"], ["apply", "--yes"]]) {
      const r = await mailfleet([...cmd, "-i", fleet.inventory]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/mailfleet: 1 problem in the inventory; nothing was changed/);
    }
    expect(existsSync(path.join(fleet.dir, "sandbox/web1"))).toBe(false);
    expect(existsSync(path.join(fleet.dir, "sandbox/db1"))).toBe(false);
  });

  it("a secret that cannot be read for one host: plan and apply stop before any host, naming the host and the secret", async () => {
    const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
    fleet.edit((doc) => {
      doc.deleteIn(["defaults", "relay", "auth"]);
      doc.setIn(["groups", "zones", "hosts", "web1", "relay"], doc.createNode({ auth: { user: "u", password: { env: "MAILFLEET_TEST_UNSET_SECRET" } } }));
    });
    expect((await mailfleet(["validate", "-i", fleet.inventory])).code).toBe(0);
    for (const cmd of [["plan"], ["apply", "--yes"]]) {
      const r = await mailfleet([...cmd, "-i", fleet.inventory]);
      expect(r.code).toBe(1);
      const stderr = withoutProgress(r.stderr);
      expect(stderr).toMatch(/^mailfleet: web1: .*MAILFLEET_TEST_UNSET_SECRET/m);
      expect(stderr).toMatch(/^mailfleet: the desired state of 1 host cannot be built; nothing was changed on any host$/m);
      expect(r.stdout).not.toMatch(/db1/);
    }
    expect(existsSync(path.join(fleet.dir, "sandbox/db1"))).toBe(false);
    expect(existsSync(path.join(fleet.dir, "sandbox/web1"))).toBe(false);
  });

  it("a DesiredStateError on one host (a resource defined twice): no host is probed, every such host is named", async () => {
    const fleet = exampleFleet({ password: { file: "secrets/relay-password" }, secret: SECRET });
    const hosts = parseInventory(readFileSync(fleet.inventory, "utf8"), fleet.inventory).hosts;
    // past the loader, which refuses it: the desired state itself must refuse it too
    const broken: HostConfig[] = hosts.map((h) => (h.name === "db1" ? { ...h, roles: ["nullmailer", "nullmailer"] } : h));
    const probed: string[] = [];
    const error = await withTransports((transports) =>
      planFleet(broken, { parallel: 4, secretsCwd: fleet.dir, fleet: broken, onStart: (h) => probed.push(h) }, transports),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DesiredStateRefusal);
    expect((error as DesiredStateRefusal).problems).toEqual([expect.stringMatching(/^db1: resource nullmailer:\S+ is defined twice$/)]);
    expect((error as DesiredStateRefusal).message).toBe("the desired state of 1 host cannot be built; nothing was changed on any host");
    expect(probed).toEqual([]);
    expect(existsSync(path.join(fleet.dir, "sandbox/web1"))).toBe(false);
    expect(existsSync(path.join(fleet.dir, "sandbox/db1"))).toBe(false);
  });
});
