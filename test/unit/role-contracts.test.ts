// Roles meet through contracts (roles/types.ts Capabilities), never by name:
// no role folder imports another's, asks which roles a host has, names
// another role, or reads another role's settings through a cast. And the
// proof that it holds: an MTA role made up here, which delivers to a mail
// store over LMTP, is let in by Dovecot's store without a line of
// roles/dovecot/ knowing it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { roles } from "../../roles/index.ts";
import { z } from "zod";
import { storeRules } from "../../roles/lib/mail/rules.ts";
import { inventoryHost } from "../../roles/lib/mail/schema.ts";
import { defineRole } from "../../roles/types.ts";
import { useCatalog } from "../../src/engine/catalog.ts";
import { desiredState, orderedRoles } from "../../src/engine/desired.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import type { FileResource } from "../../src/resources/types.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const INV = path.join(REPO, "test/unit/inline.yaml");
const names = roles.map((r) => r.name);
const sections = new Map(roles.map((r) => [r.name, Object.keys(r.sections)]));

/** Code of a role's folder, comments left out. */
function code(role: string): { file: string; text: string }[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = path.join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : n.endsWith(".ts") ? [p] : [];
    });
  return walk(path.join(REPO, "roles", role)).map((file) => ({
    file: path.relative(REPO, file),
    text: readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1"),
  }));
}

/** Where a role uses another role's name on purpose, and why. */
const ALLOWED: Record<string, { name: string; why: string }[]> = {
  opensmtpd: [{ name: "rspamd", why: "opensmtpd.filter: rspamd names OpenSMTPD's own filter-rspamd program (package opensmtpd-filter-rspamd), not the role" }],
};

describe("no role knows another by name", () => {
  it.each(names)("%s imports no other role's folder, asks no host for its roles, names no other role, casts no other role's settings", (role) => {
    const others = names.filter((n) => n !== role);
    const foreignSections = [...new Set(roles.filter((r) => r.name !== role).flatMap((r) => Object.keys(r.sections)))].filter((s) => !sections.get(role)!.includes(s));
    const found: string[] = [];
    for (const { file, text } of code(role)) {
      for (const o of others) {
        if (new RegExp(`from\\s+["']\\.\\./${o}/`).test(text)) found.push(`${file} imports from roles/${o}/`);
        const allowed = (ALLOWED[role] ?? []).some((a) => a.name === o);
        if (!allowed && new RegExp(`["'\`]${o}["'\`]`).test(text)) found.push(`${file} names ${o}`);
      }
      if (/\b\w+\.roles\b/.test(text)) found.push(`${file} reads a host's roles`);
      for (const s of foreignSections) if (new RegExp(`\\.${s}\\b[^\\n]*\\bas\\b`).test(text)) found.push(`${file} casts the ${s}: section of another role`);
    }
    expect(found).toEqual([]);
  });
});

describe("a new MTA role delivering to Dovecot touches nothing of roles/dovecot/", () => {
  // made up here: it only says, through the contract, where its mail goes and from which address
  const relayBox = defineRole({
    name: "relay-box",
    summary: "a made-up MTA that hands every message to a mail store over LMTP",
    sections: { box: z.strictObject({ store: inventoryHost }) },
    platforms: { debian: {} },
    exclusive: "mta",
    provides: ["lmtpDelivery"],
    offers: (h) => (h.box ? { lmtpDelivery: { store: h.box.store, from: h.address } } : {}),
    rules: (h, ctx) => (h.box ? storeRules(h, h.box.store, ["box", "store"], ctx) : []),
    resources: () => [],
  });
  afterEach(() => useCatalog(roles));

  const inventory = (mta: string) => `defaults:
  domain: example.org
  adminaddr: root@example.org
  mail: { domains: { example.org: { users: { root: { password: { env: X } } } } } }
hosts:
  ${mta}
  store1:
    platform: debian
    roles: [dovecot]
    address: 10.0.0.5
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key }, authLimits: false }
`;
  const storeFiles = (text: string) => {
    const hosts = parseInventory(text, INV).hosts;
    const store = hosts.find((h) => h.name === "store1")!;
    return desiredState(store, maskingResolver, hosts).filter((r): r is FileResource => r.kind === "file");
  };

  it("Dovecot's store lets the new MTA in by its address, and the plan names it", () => {
    useCatalog([...roles, relayBox]);
    const files = storeFiles(inventory("box1: { platform: debian, roles: [relay-box], address: 10.0.0.9, box: { store: store1 } }"));
    expect(files.find((f) => f.path === "/etc/dovecot/dovecot.conf")!.content).toMatch(/# Delivery: box1 \(10\.0\.0\.9\) over TCP\nservice lmtp \{\n  inet_listener lmtp \{\n    address = 10\.0\.0\.5/);
    expect(files.find((f) => f.path === "/etc/dovecot/lmtp-clients")!.content).toMatch(/^# [0-9a-f]{64} = 10\.0\.0\.9 \(box1\)$/m);
  });

  it("without the new role, the same store has no client (and no listener)", () => {
    const files = storeFiles(inventory("box1: { platform: debian, roles: [nullmailer], address: 10.0.0.9, relay: { host: x.example.org } }"));
    expect(files.find((f) => f.path === "/etc/dovecot/dovecot.conf")!.content).toMatch(/# Delivery: no MTA is known to deliver here/);
  });

  it("an MTA naming a store whose roles offer none is refused, naming the roles that would", () => {
    useCatalog([...roles, relayBox]);
    const text = inventory("box1: { platform: debian, roles: [relay-box], address: 10.0.0.9, box: { store: store1 } }").replace("roles: [dovecot]", "roles: [nullmailer]\n    relay: { host: x.example.org }\n    mail: {}");
    expect(inventoryErrors(() => parseInventory(text, INV))).toMatch(/hosts\.box1\.box\.store: box\.store names store1, which offers no mail store: give it a role that does \(dovecot\)/);
  });
});

describe("the order of a host's roles", () => {
  it("puts the role offering what another uses on the host first, whatever the inventory's order", () => {
    const hosts = parseInventory(
      `defaults: { domain: example.org, adminaddr: root@example.org }
hosts:
  hub:
    platform: debian
    roles: [dovecot, postfix-hub]
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
    mail: { domains: { example.org: { users: { root: { password: { env: X } } } } } }
`,
      INV,
    ).hosts;
    expect(orderedRoles(hosts[0]!).map((r) => r.name)).toEqual(["postfix-hub", "dovecot"]);
    const ids = desiredState(hosts[0]!, maskingResolver, hosts).map((r) => r.id);
    expect(ids.indexOf("postfix:package")).toBeLessThan(ids.indexOf("dovecot:dovecot.conf"));
  });
});
