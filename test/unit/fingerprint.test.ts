import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { desiredState } from "../../src/engine/desired.ts";
import { canonicalJson, desiredFingerprint, fingerprintText, hostFingerprint } from "../../src/engine/fingerprint.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import { REPO } from "../support/cli.ts";

const zones = readFileSync(path.join(REPO, "examples/zones.yaml"), "utf8");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** zones.yaml as if it lived in another directory (another checkout, another machine). */
function inventoryIn(dir: string, edit?: (doc: YAML.Document) => void): HostConfig[] {
  const doc = YAML.parseDocument(zones);
  edit?.(doc);
  return parseInventory(doc.toString(), path.join(dir, "zones.yaml")).hosts;
}

const fingerprints = (hosts: HostConfig[]) => Object.fromEntries(hosts.map((h) => [h.name, hostFingerprint(h)]));
const withAuth = (ref: object) => (doc: YAML.Document) => doc.setIn(["defaults", "relay", "auth"], doc.createNode({ user: "relay-user", password: ref }));

describe("host fingerprint (the Terraform trigger)", () => {
  it("is the same for the same inventory in two different directories", () => {
    const a = mkdtempSync(path.join(os.tmpdir(), "mf-fp-a-"));
    const b = path.join(mkdtempSync(path.join(os.tmpdir(), "mf-fp-b-")), "deeper", "checkout");
    dirs.push(a, path.dirname(path.dirname(b)));
    const fa = fingerprints(inventoryIn(a));
    expect(fa).toEqual(fingerprints(inventoryIn(b)));
    expect(fa.web1).toMatch(/^[0-9a-f]{64}$/);
    expect(fa.web1).not.toBe(fa.db1);
  });

  it("holds no absolute path of the machine it was computed on", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-fp-"));
    dirs.push(dir);
    mkdirSync(path.join(dir, "secrets"));
    writeFileSync(path.join(dir, "secrets/pw"), "not-hashed\n");
    const [web1] = inventoryIn(dir, withAuth({ file: "secrets/pw" })).filter((h) => h.name === "web1");
    const doc = fingerprintText(web1!, desiredState(web1!, { value: () => "(sensitive)", revealed: () => [] }));
    expect(doc).not.toContain(dir);
    expect(doc).toContain('"root":"sandbox/web1"');
    expect(doc).toContain('"file":"secrets/pw"');
    expect(doc).not.toContain("not-hashed");
  });

  it("changes for the host whose settings change, and only for it", () => {
    const dir = "/srv/fleet";
    const before = fingerprints(inventoryIn(dir));
    const after = fingerprints(inventoryIn(dir, (d) => d.setIn(["groups", "zones", "hosts", "db1", "adminaddr"], "ops@example.org")));
    expect(after.web1).toBe(before.web1);
    expect(after.db1).not.toBe(before.db1);
  });

  it("covers modes and owners, not only contents", () => {
    const [web1] = inventoryIn("/srv/fleet");
    const resources = desiredState(web1!, { value: () => "x", revealed: () => [] });
    const base = desiredFingerprint(web1!, resources);
    const remotes = resources.findIndex((r) => r.id === "nullmailer:remotes");
    const withMode = resources.map((r, i) => (i === remotes ? { ...r, mode: 0o640 } : r));
    const withOwner = resources.map((r, i) => (i === remotes ? { ...r, owner: "root" } : r));
    expect(desiredFingerprint(web1!, withMode)).not.toBe(base);
    expect(desiredFingerprint(web1!, withOwner)).not.toBe(base);
  });

  it("never depends on a secret's value; the reference and secretsVersion do change it", () => {
    const dir = "/srv/fleet";
    const env = withAuth({ env: "MF_FP_RELAY_PASSWORD" });
    process.env.MF_FP_RELAY_PASSWORD = "first-secret-value";
    const one = fingerprints(inventoryIn(dir, env));
    process.env.MF_FP_RELAY_PASSWORD = "rotated-secret-value";
    const two = fingerprints(inventoryIn(dir, env));
    expect(two).toEqual(one);

    // The password really is in what apply writes: the fingerprint just never sees it.
    const [web1] = inventoryIn(dir, env);
    const revealed = desiredState(web1!, revealingResolver(dir)).find((r) => r.id === "nullmailer:remotes");
    expect(revealed && "content" in revealed && revealed.content).toContain("rotated-secret-value");
    expect(fingerprintText(web1!, desiredState(web1!, { value: () => "(sensitive)", revealed: () => [] }))).not.toContain("rotated");

    const otherRef = fingerprints(inventoryIn(dir, withAuth({ env: "MF_FP_OTHER_PASSWORD" })));
    expect(otherRef.web1).not.toBe(one.web1);
    const bumped = fingerprints(inventoryIn(dir, (d) => (env(d), d.setIn(["groups", "zones", "hosts", "web1", "secretsVersion"], "2025-q4"))));
    expect(bumped.web1).not.toBe(one.web1);
    expect(bumped.db1).toBe(one.db1);
    delete process.env.MF_FP_RELAY_PASSWORD;
  });

  it("canonical JSON ignores key order and functions", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }], f: () => 1, u: undefined })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
  });

  it("canonical JSON is the document every hash so far was taken of (Terraform triggers, saved plans)", () => {
    // keys by UTF-16 code unit, JSON.stringify's escapes and numbers, null for a function or undefined in a list
    const value = { é: 1, Z: [undefined, () => 1, "a\u2028\"b"], a: { "10": 0.1, "9": -0, "": null }, n: 1e21 };
    expect(canonicalJson(value)).toBe('{"Z":[null,null,"a\u2028\\"b"],"a":{"":null,"10":0.1,"9":0},"n":1e+21,"é":1}');
    // rewrite maps every string value, in lists and mappings, never a key
    expect(canonicalJson({ "/srv/x": ["/srv/x", { p: "/srv/x" }] }, (s) => s.replace("/srv", "."))).toBe('{"/srv/x":["./x",{"p":"./x"}]}');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(/circular/i);
  });
});
