// synth --split-by: every host in exactly one stack, each stack with its own
// state; and a reviewed plan's hosts without changes kept as they are.
import { rmSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadInventory } from "../../src/engine/inventory.ts";
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { StackError } from "../../stacks/backend.ts";
import { parseSplitRule, splitHosts } from "../../stacks/split.ts";
import { planTrigger, synthFleet } from "../../stacks/synth.ts";
import type { SavedHost, SavedPlan } from "../../src/engine/saved-plan.ts";
import { exampleFleet } from "../support/fleet.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const host = (name: string, group?: string) => ({ name, ...(group ? { group } : {}) }) as HostConfig;
const FLEET = [host("web1", "zones"), host("db1", "zones"), host("mx1", "hubs"), host("pi", "linux")];
const names = (parts: ReturnType<typeof splitHosts>) => Object.fromEntries(parts.map((p) => [p.stack, p.hosts.map((h) => h.name)]));

describe("split stacks", () => {
  it("--split-by group: one stack per group, named <stack>-<group>", () => {
    expect(names(splitHosts("mailfleet", FLEET, parseSplitRule(["group"])!))).toEqual({
      "mailfleet-zones": ["web1", "db1"],
      "mailfleet-hubs": ["mx1"],
      "mailfleet-linux": ["pi"],
    });
  });

  it("--split-by NAME=PATTERNS: hosts and groups by glob", () => {
    const rule = parseSplitRule(["edge=zones,pi", "core=mx*"])!;
    expect(names(splitHosts("fleet", FLEET, rule))).toEqual({ "fleet-edge": ["web1", "db1", "pi"], "fleet-core": ["mx1"] });
  });

  it("a host in two parts, in none, or without a group is an error naming it", () => {
    expect(() => splitHosts("m", FLEET, parseSplitRule(["a=zones,mx1", "b=mx*,pi"])!)).toThrow("a host is in one stack only; mx1 is in a and b");
    expect(() => splitHosts("m", FLEET, parseSplitRule(["a=zones", "b=mx1"])!)).toThrow("pi is in no part");
    expect(() => splitHosts("m", [...FLEET, host("loose")], parseSplitRule(["group"])!)).toThrow("--split-by group: loose belongs to no group");
    expect(() => splitHosts("m", FLEET, parseSplitRule(["a=nomatch*", "b=*"])!)).toThrow("--split-by a=nomatch* matches no host or group");
  });

  it("refuses malformed rules", () => {
    for (const bad of [["=web1"], ["a b=web1"], ["a="], ["group", "a=web1"], ["a=web1", "a=db1"]]) {
      expect(() => parseSplitRule(bad), bad.join(" ")).toThrow(StackError);
    }
    expect(parseSplitRule([])).toBeUndefined();
  });

  it("each stack has its own state: local files, pg schemas, s3 keys; a setting naming one state is refused", async () => {
    const { dir, inventory } = exampleFleet({ password: { env: "X" }, secret: "x", extraHosts: ["app1"] });
    dirs.push(dir);
    const hosts = loadInventory(inventory).hosts;
    const synth = (backend: string, backendConfig: Record<string, string>) =>
      synthFleet({ inventoryFile: inventory, hosts, outdir: path.join(dir, "out"), backend, backendConfig, split: parseSplitRule(["a=web1", "b=db1,app1"]) });
    const local = await synth("local", {});
    expect(local.stacks.map((s) => [s.stack, s.backend.path])).toEqual([
      ["mailfleet-a", "../../../terraform.mailfleet-a.tfstate"],
      ["mailfleet-b", "../../../terraform.mailfleet-b.tfstate"],
    ]);
    const manifest = JSON.parse(readFileSync(path.join(dir, "out/manifest.json"), "utf8")) as { stacks: Record<string, unknown> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(["mailfleet-a", "mailfleet-b"]);
    const pg = await synth("pg", { schema_name: "mail" });
    expect(pg.stacks.map((s) => s.backend.schema_name)).toEqual(["mail_a", "mail_b"]);
    const s3 = await synth("s3", { bucket: "b" });
    expect(s3.stacks.map((s) => s.backend.key)).toEqual(["mailfleet/mailfleet-a.tfstate", "mailfleet/mailfleet-b.tfstate"]);
    await expect(synth("local", { path: "one.tfstate" })).rejects.toThrow("--backend-config path names one state");
    await expect(synth("s3", { bucket: "b", key: "k" })).rejects.toThrow("--backend-config key names one state");
  });
});

describe("a stack from a reviewed plan", () => {
  it("replaces only hosts with changes; the others keep their resource whatever the trigger", async () => {
    const { dir, inventory } = exampleFleet({ password: { env: "X" }, secret: "x" });
    dirs.push(dir);
    const hosts = loadInventory(inventory).hosts;
    const saved = (name: string, changes: number): SavedHost => ({
      host: name,
      transport: "local",
      platform: "smartos",
      desired_sha256: "0".repeat(64),
      facts_sha256: "1".repeat(64),
      changes: Array.from({ length: changes }, (_, i) => ({ id: `f${i}`, kind: "file", action: "update", target: `/f${i}`, summary: "" })),
      skipped: [],
      kept: [],
    });
    const plan = { hosts: [saved("web1", 1), saved("db1", 0)] } as SavedPlan;
    const r = await synthFleet({ inventoryFile: inventory, hosts, outdir: path.join(dir, "out"), plan });
    const json = JSON.parse(readFileSync(r.file, "utf8")) as { resource: { terraform_data: Record<string, { triggers_replace: Record<string, string>; lifecycle?: unknown }> } };
    const web1 = json.resource.terraform_data.web1!;
    const db1 = json.resource.terraform_data.db1!;
    expect(web1.triggers_replace.plan).toBe(planTrigger(plan.hosts[0]!));
    expect(web1.lifecycle).toBeUndefined();
    expect(db1.triggers_replace.plan).toBeUndefined();
    expect(db1.lifecycle).toEqual({ ignore_changes: ["triggers_replace"] });
    expect(r.hosts.map((h) => [h.host, h.changes])).toEqual([["web1", true], ["db1", false]]);
    // Another plan for web1 (other facts) is another trigger.
    expect(planTrigger({ ...plan.hosts[0]!, facts_sha256: "2".repeat(64) })).not.toBe(planTrigger(plan.hosts[0]!));
  });
});
