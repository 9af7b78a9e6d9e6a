// The hub's roles without a host: the computed relay networks, the password
// hashes, the rules that look across the fleet, and what the plan shows.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dovecot } from "../../roles/dovecot/index.ts";
import { MASKED_HASH, mailboxSalt, passwordHash } from "../../roles/mail/passwords.ts";
import { relayNetworks } from "../../roles/postfix-hub/networks.ts";
import { postfixHub } from "../../roles/postfix-hub/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { InventoryError } from "../../src/inventory/errors.ts";
import { maskingResolver, type SecretResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { FileResource, HostContext } from "../../src/resources/types.ts";
import { hostFingerprint } from "../../src/engine/fingerprint.ts";
import { REPO } from "../support/cli.ts";

const INV = path.join(REPO, "test/unit/inline.yaml");
const PASSWORDS: Record<string, string> = { BOB_ONE: "one's pass", BOB_TWO: "two's pass" };
const secrets = (values = PASSWORDS): SecretResolver => ({
  value: (ref) => ("env" in ref ? values[ref.env]! : "x"),
  revealed: () => Object.values(values),
});

const HUB = `
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    address: 10.200.0.7
    hub: { networks: [192.0.2.0/28] }
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
`;

function fleet(satellites: string, hub = HUB, mail = ""): HostConfig[] {
  return parseInventory(
    `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay: { host: mx1.example.org }
  mail:
    domains:
      example.org:
        users: { admin: { password: { env: BOB_ONE } } }
        aliases: { root: admin }
      one.example:
        users: { bob: { password: { env: BOB_ONE } } }
      two.example:
        users: { bob: { password: { env: BOB_TWO } } }
${mail}hosts:${hub}${satellites}`,
    INV,
  ).hosts;
}

const web1 = `
  web1: { platform: smartos, roles: [nullmailer], address: 10.200.0.11 }
`;
const db1 = `
  db1: { platform: debian, roles: [postfix-satellite], transport: { type: ssh, address: 10.200.0.12 } }
`;

function errors(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof InventoryError) return e.message;
    throw e;
  }
  throw new Error("the inventory was accepted");
}

const ctx: HostContext = hostContext(debian, "");
const hubFiles = (hosts: HostConfig[], s: SecretResolver = secrets()) => {
  const h = hosts.find((x) => x.name === "mx1")!;
  return [...roleResources(postfixHub, h, { secrets: s, fleet: hosts }), ...roleResources(dovecot, h, { secrets: s, fleet: hosts })];
};
const fileAt = (hosts: HostConfig[], p: string, s?: SecretResolver) => hubFiles(hosts, s).find((r): r is FileResource => r.kind === "file" && r.path === p)!;

describe("the hub's mynetworks", () => {
  it("is loopback, the address of every host relaying to the hub (by name, fqdn or address), and hub.networks", () => {
    const hosts = fleet(web1 + db1);
    expect(relayNetworks(hosts[0]!, hosts).mynetworks).toEqual(["127.0.0.1/32", "[::1]/128", "10.200.0.11/32", "10.200.0.12/32", "192.0.2.0/28"]);
    const byAddress = fleet(`
  web1: { platform: smartos, roles: [nullmailer], address: 2001:db8::11, relay: { host: 10.200.0.7 } }
  web2: { platform: smartos, roles: [nullmailer], address: 10.9.9.9, relay: { host: MX1 } }
  elsewhere: { platform: smartos, roles: [nullmailer], relay: { host: other.example.org } }
`);
    expect(relayNetworks(byAddress[0]!, byAddress).mynetworks).toEqual(["127.0.0.1/32", "[::1]/128", "[2001:db8::11]/128", "10.9.9.9/32", "192.0.2.0/28"]);
  });

  it("adding a satellite adds exactly its address, and the plan's main.cf diff shows it", () => {
    const before = fleet(web1);
    const after = fleet(web1 + db1);
    const cf = (hosts: HostConfig[]) => fileAt(hosts, "/etc/postfix/main.cf").content;
    const facts = new Map([["postfix:main.cf", [`f -rw-r--r-- root root ${Buffer.byteLength(cf(before))}`, Buffer.from(cf(before)).toString("hex")]]]);
    const main = hubFiles(after).filter((r) => r.id === "postfix:main.cf");
    const [change] = diffHost(main, facts, ctx);
    const lines = change!.diff!.split("\n").filter((l) => /^[-+][^-+]/.test(l));
    expect(lines).toEqual(["+#   10.200.0.12/32  db1", "+    10.200.0.12/32"]);
    expect(cf(after)).toMatch(/^smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination$/m);
    expect(cf(after)).toMatch(/^compatibility_level = 3\.6$/m);
  });

  it("a satellite whose address cannot be known is an error at validate naming it, at its own entry", () => {
    const msg = errors(() => fleet(`
  zone9:
    platform: smartos
    roles: [nullmailer]
    transport: { type: ssh, address: zone9.example.org }
`));
    expect(msg).toMatch(/inline\.yaml:\d+:\d+: hosts\.zone9: host zone9 relays through hub mx1, .* zone9's address is unknown .* set address:/);
  });

  it("permits SASL-authenticated clients only when submission is offered, and requires TLS for it", () => {
    const hub = HUB.replace("hub: { networks: [192.0.2.0/28] }", "hub: { submission: {}, tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }");
    const cf = fileAt(fleet("", hub), "/etc/postfix/main.cf").content;
    expect(cf).toMatch(/^smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination$/m);
    expect(fileAt(fleet("", hub), "/etc/postfix/master.cf").content).toMatch(/^587 inet .*smtpd\n  -o syslog_name=postfix\/submission/m);
    expect(errors(() => fleet("", HUB.replace("hub: { networks: [192.0.2.0/28] }", "hub: { submission: {} }")))).toMatch(/hub\.submission: hub\.submission takes passwords: set hub\.tls/);
  });
});

describe("virtual domains", () => {
  it("are virtual mailbox domains (never in mydestination), delivered to Dovecot's socket; the adminaddr is a real mailbox", () => {
    const hosts = fleet(web1);
    const cf = fileAt(hosts, "/etc/postfix/main.cf").content;
    expect(cf).toMatch(/^mydestination =$/m);
    expect(cf).toMatch(/^virtual_mailbox_domains = example\.org one\.example two\.example$/m);
    expect(cf).toMatch(/^virtual_transport = lmtp:unix:private\/dovecot-lmtp$/m);
    expect(fileAt(hosts, "/etc/postfix/vmailbox").content.split("\n").slice(1)).toEqual(["admin@example.org OK", "bob@one.example OK", "bob@two.example OK", ""]);
    expect(fileAt(hosts, "/etc/dovecot/dovecot.conf").content).toMatch(/unix_listener \/var\/spool\/postfix\/private\/dovecot-lmtp \{\n\s+mode = 0600\n\s+user = postfix/);
  });

  it("refuses an adminaddr that the hub would refuse, at that host's adminaddr", () => {
    const msg = errors(() => fleet(`
  web1: { platform: smartos, roles: [nullmailer], address: 10.200.0.11, adminaddr: ops@one.example }
`));
    expect(msg).toMatch(/hosts\.web1\.adminaddr: adminaddr ops@one\.example would be refused: hub mx1 serves one\.example, which has no user or alias 'ops'/);
  });

  it("refuses aliases pointing nowhere and names that are both user and alias", () => {
    const bad = errors(() =>
      parseInventory(
        `defaults: { domain: example.org, adminaddr: root@example.org }
hosts:${HUB}    mail:
      domains:
        example.org:
          users: { root: { password: { env: X } } }
          aliases: { root: x@else.example, sales: carol }
`,
        INV,
      ),
    );
    expect(bad).toMatch(/mail\.domains\.example\.org\.aliases\.root: root@example\.org is both a user and an alias/);
    expect(bad).toMatch(/mail\.domains\.example\.org\.aliases\.sales: alias sales@example\.org points at carol@example\.org, which is no user or alias of example\.org/);
  });

  it("over LMTP/TCP to a store host, whose Dovecot then listens at its address", () => {
    const hosts = parseInventory(
      `defaults:
  domain: example.org
  adminaddr: root@example.org
  mail:
    domains:
      example.org: { users: { root: { password: { env: X } } } }
hosts:
  mx1: { platform: debian, roles: [postfix-hub], address: 10.0.0.2, hub: { store: store1 } }
  store1:
    platform: debian
    roles: [dovecot]
    address: 10.0.0.5
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
`,
      INV,
    ).hosts;
    const s = secrets({ X: "pw" });
    const cf = roleResources(postfixHub, hosts[0]!, { secrets: s, fleet: hosts }).find((r): r is FileResource => r.kind === "file" && r.path === "/etc/postfix/main.cf")!;
    expect(cf.content).toMatch(/^virtual_transport = lmtp:inet:\[10\.0\.0\.5\]:24$/m);
    const conf = roleResources(dovecot, hosts[1]!, { secrets: s, fleet: hosts }).find((r): r is FileResource => r.kind === "file" && r.path === "/etc/dovecot/dovecot.conf")!;
    expect(conf.content).toMatch(/# Delivery: mx1 \(10\.0\.0\.2\) over TCP\nservice lmtp \{\n  inet_listener lmtp \{\n    address = 10\.0\.0\.5\n    port = 24/);
    expect(conf.content).not.toMatch(/unix_listener/);
  });
});

describe("passwords", () => {
  it("hash to the same BLF-CRYPT string for the same address and password, and differently for another address or password", () => {
    const a = passwordHash("bob@one.example", "secret");
    expect(a).toMatch(/^\{BLF-CRYPT\}\$2b\$10\$[./A-Za-z0-9]{53}$/);
    expect(passwordHash("bob@one.example", "secret")).toBe(a);
    expect(passwordHash("bob@two.example", "secret")).not.toBe(a);
    expect(passwordHash("bob@one.example", "secreT")).not.toBe(a);
    // the salt is the address's alone: it tells nothing about the password
    expect(a.slice(0, 11 + 29)).toBe(`{BLF-CRYPT}${mailboxSalt("bob@one.example")}`.slice(0, 11 + 29));
    expect(() => passwordHash("bob@one.example", "ä".repeat(37))).toThrow(/74 bytes long; bcrypt reads only the first 72/);
  });

  it("a re-plan with unchanged passwords changes nothing; a changed one shows 'sensitive content changed' and nothing else", () => {
    const hosts = fleet(web1);
    const users = fileAt(hosts, "/etc/dovecot/users");
    expect(users.sensitive).toBe(true);
    expect(users.mode).toBe(0o640);
    const facts = (text: string) => new Map([["dovecot:passwd-file", [`f -rw-r----- root dovecot ${Buffer.byteLength(text)}`, Buffer.from(text).toString("hex")]]]);
    const only = (s?: SecretResolver) => hubFiles(hosts, s).filter((r) => r.id === "dovecot:passwd-file");
    expect(diffHost(only(), facts(users.content), ctx)).toEqual([]);
    const [change] = diffHost(only(secrets({ ...PASSWORDS, BOB_TWO: "rotated" })), facts(users.content), ctx);
    expect(change!.diff).toBe("/etc/dovecot/users: sensitive content changed (not shown)");
    expect(JSON.stringify(change)).not.toMatch(/\$2b\$|rotated|two's pass/);
  });

  it("never hashes a placeholder: render and the Terraform trigger show a mark that is no hash, and do not change with a password", () => {
    const hosts = fleet(web1);
    const masked = fileAt(hosts, "/etc/dovecot/users", maskingResolver).content;
    expect(masked).toContain(`bob@one.example:${MASKED_HASH}:`);
    expect(masked).not.toMatch(/\$2b\$/);
    expect(hostFingerprint(hosts[0]!, hosts)).toBe(hostFingerprint(fleet(web1)[0]!, fleet(web1)));
  });
});
