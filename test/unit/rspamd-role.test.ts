import path from "node:path";
import { describe, expect, it } from "vitest";
import { rspamd } from "../../roles/rspamd/index.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { InventoryError } from "../../src/inventory/errors.ts";
import type { FileResource } from "../../src/resources/types.ts";

const FILE = "/srv/fleet/inventory.yaml";
const host = (settings: string) => `hosts:\n  scan1:\n    platform: debian\n    domain: example.org\n    roles: [rspamd]\n    rspamd: ${settings}\n`;
const problems = (settings: string): string => {
  try {
    parseInventory(host(settings), FILE);
  } catch (e) {
    if (e instanceof InventoryError) return e.message;
    throw e;
  }
  return "";
};

describe("rspamd settings", () => {
  it("binds the worker to loopback or a socket only", () => {
    expect(problems("{ listen: 127.0.0.1:11333 }")).toBe("");
    expect(problems("{ listen: /run/rspamd/normal.sock }")).toBe("");
    expect(problems("{ listen: 0.0.0.0:11333 }")).toMatch(/hosts\.scan1\.rspamd\.listen: "0\.0\.0\.0:11333" is not one of the allowed forms/);
    expect(problems("{ listen: 192.0.2.1:11333 }")).toMatch(/rspamd\.listen/);
  });

  it("refuses thresholds out of order, greylisting without redis, unknown modules", () => {
    expect(problems("{ actions: { addHeader: 8, reject: 6 } }")).toMatch(/:6:\d+: hosts\.scan1\.rspamd\.actions\.reject: rspamd\.actions\.reject \(6\) must be above addHeader \(8\)/);
    expect(problems("{ actions: { greylist: 4 } }")).toMatch(/greylisting needs rspamd\.redis/);
    expect(problems("{ disable: [rbl, nosuch] }")).toMatch(/rspamd\.disable\.1: "nosuch" is not allowed; allowed: rbl, fuzzy_check/);
  });

  it("quotes a redis password the UCL way, masks it in diffs and keeps it 0640 to rspamd's group", () => {
    const h = parseInventory(host("{ redis: { servers: ['127.0.0.1:6379'], password: { env: REDIS_PW } } }"), FILE).hosts[0]!;
    const pw = 'p"a\\ss\'word $(x) ünï';
    const rs = roleResources(rspamd, h, { secrets: { value: () => pw, revealed: () => [pw] } });
    const redis = rs.find((r): r is FileResource => r.kind === "file" && r.path === "/etc/rspamd/local.d/redis.conf")!;
    expect(redis.content).toContain(`password = ${JSON.stringify(pw)};`);
    expect(redis).toMatchObject({ mode: 0o640, group: "_rspamd", sensitive: true, mask: "rspamd:redis" });
    expect(rspamd.masks["rspamd:redis"]!(redis.content)).not.toContain("ss'word");
    expect(rspamd.masks["rspamd:redis"]!(redis.content)).toContain("password = ********;");
    expect(path.posix.dirname(redis.path)).toBe("/etc/rspamd/local.d");
  });

  it("DKIM: a key per signed domain and selector, generated on the host 0640 to rspamd's group, and dkim_signing.conf naming them; refused with nothing to sign", () => {
    const text = `hosts:\n  mx:\n    platform: debian\n    domain: example.org\n    roles: [rspamd]\n    rspamd: { dkim: { ed25519: true } }\n    mail: { domains: { one.example: {}, two.example: {} } }\n`;
    const h = parseInventory(text, FILE).hosts[0]!;
    const rs = roleResources(rspamd, h, { secrets: { value: () => "", revealed: () => [] } });
    const keys = rs.filter((r) => r.kind === "generatedKey");
    expect(keys.map((k) => k.kind === "generatedKey" && [k.path, k.mode, k.group])).toEqual([
      ["/var/lib/rspamd/dkim/one.example.mf1.key", 0o640, "_rspamd"],
      ["/var/lib/rspamd/dkim/one.example.mf1e.key", 0o640, "_rspamd"],
      ["/var/lib/rspamd/dkim/two.example.mf1.key", 0o640, "_rspamd"],
      ["/var/lib/rspamd/dkim/two.example.mf1e.key", 0o640, "_rspamd"],
    ]);
    const conf = rs.find((r): r is FileResource => r.kind === "file" && r.path === "/etc/rspamd/local.d/dkim_signing.conf")!;
    expect(conf.content).toContain('"one.example" {\n    selectors [\n      { selector = "mf1"; path = "/var/lib/rspamd/dkim/one.example.mf1.key"; }\n      { selector = "mf1e"; path = "/var/lib/rspamd/dkim/one.example.mf1e.key"; }\n    ]');
    expect(conf.content).toMatch(/^sign_inbound = false;$/m);
    expect(problems("{ dkim: {} }")).toMatch(/hosts\.scan1\.rspamd\.dkim: rspamd\.dkim signs the domains of mail: \(none on this host\)/);
    expect(problems("{ dkim: { domains: [one.example] }, disable: [dkim_signing] }")).toMatch(/rspamd\.dkim needs the dkim_signing module/);
    expect(problems("{ dkim: { selector: Bad_Sel } }")).toMatch(/rspamd\.dkim\.selector: "Bad_Sel" is not allowed; one DNS label/);
  });
});
