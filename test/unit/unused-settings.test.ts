// Every setting takes effect on a role of the host it is set for, or says
// why not: set on a host whose roles do not read it, it is refused; set in
// defaults or a group that no host under it reads, it is a warning.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatProblem } from "../../src/inventory/errors.ts";
import { loadInventory, parseInventory } from "../../src/engine/inventory.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const FILE = "/srv/fleet/inventory.yaml";
const TLS = "{ tls: { cert: /etc/ssl/c.pem, key: /etc/ssl/k.pem } }";

describe("settings no role of the host reads", () => {
  it("on a host: refused at the key, naming who reads it and what the host runs", () => {
    const msg = inventoryErrors(() =>
      parseInventory(
        `defaults: { domain: example.org, relay: { host: relay.example.org } }
hosts:
  z1: { platform: smartos, roles: [nullmailer], postfix: { replyTo: a@example.org } }
  s1: { platform: debian, roles: [dovecot], address: 192.0.2.5, dovecot: ${TLS}, adminaddr: root@example.org, mail: { domains: { example.org: {} } } }
`,
        FILE,
      ),
    );
    expect(msg.split("\n").map((l) => l.replace(/^\S+?:/, ""))).toEqual([
      "3:49: hosts.z1.postfix: no role of host z1 reads it (postfix is read by postfix-satellite; z1 runs nullmailer); remove it, or give the host a role that reads it",
      "4:130: hosts.s1.adminaddr: no role of host s1 reads it (adminaddr is read by nullmailer, postfix-satellite, postfix-hub or opensmtpd; s1 runs dovecot); remove it, or give the host a role that reads it",
    ]);
  });

  it("in defaults or a group no host under it reads: a warning, and the inventory loads", () => {
    const inv = parseInventory(
      `defaults: { domain: example.org, relay: { host: relay.example.org }, nullmailer: { me: x.example.org } }
groups:
  stores:
    platform: debian
    roles: [dovecot]
    postfix: { replyTo: a@example.org }
    mail: { domains: { example.org: {} } }
    hosts:
      s1: { address: 192.0.2.5, dovecot: ${TLS} }
`,
      FILE,
    );
    expect(inv.hosts.map((h) => h.name)).toEqual(["s1"]);
    expect(inv.warnings.map((w) => formatProblem(w).replace(/^\S+?:/, ""))).toEqual([
      "1:34: defaults.relay: warning: no host of the inventory has a role that reads it (relay is read by nullmailer, postfix-satellite or opensmtpd; they run dovecot), so it has no effect",
      "1:70: defaults.nullmailer: warning: no host of the inventory has a role that reads it (nullmailer is read by nullmailer; they run dovecot), so it has no effect",
      "6:5: groups.stores.postfix: warning: no host of group stores has a role that reads it (postfix is read by postfix-satellite; they run dovecot), so it has no effect",
    ]);
  });

  it("shared through defaults, read by some hosts: neither (the others do not read it)", () => {
    for (const f of ["examples/demo-fleet.yaml", "examples/sandbox-fleet.yaml", "examples/zones.yaml"]) {
      expect(loadInventory(path.join(REPO, f)).warnings, f).toEqual([]);
    }
  });
});
