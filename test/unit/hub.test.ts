// The hub's roles without a host: the computed relay networks, the password
// hashes, the rules that look across the fleet, and what the plan shows.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dovecot } from "../../roles/dovecot/index.ts";
import { MASKED_HASH, mailboxSalt, passwordHash } from "../../roles/lib/mail/passwords.ts";
import { relayNetworks } from "../../roles/postfix-hub/networks.ts";
import { postfixHub } from "../../roles/postfix-hub/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { maskingResolver, type SecretResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { FileResource, HostContext } from "../../src/resources/types.ts";
import { hostFingerprint } from "../../src/engine/fingerprint.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

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

const errors = inventoryErrors;

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
    expect(cf.content).toMatch(/^virtual_transport = lmtp:inet:\[10\.0\.0\.5\]:24\n# the store lets in this address only: connect from it\nlmtp_bind_address = 10\.0\.0\.2$/m);
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

describe("what the hub accepts and who may send as whom", () => {
  const MAIL = `
    mail:
      domains:
        example.org:
          users: { admin: { password: { env: BOB_ONE } } }
          aliases: { root: admin }
        one.example:
          users: { bob: { password: { env: BOB_ONE } }, alice: { password: { env: BOB_ONE } } }
          aliases: { postmaster: bob, abuse: postmaster, team: [bob, alice], ext: [bob, someone@else.example], chain: abuse }
        two.example:
          users: { bob: { password: { env: BOB_ONE } } }
`;
  const hubWith = (hubSettings: string, mail = MAIL) =>
    parseInventory(
      `defaults: { domain: example.org, adminaddr: root@example.org }
hosts:
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    address: 10.200.0.7
    hub: ${hubSettings}
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
${mail}`,
      INV,
    ).hosts;
  const TLS = "tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key }";
  const map = (hosts: HostConfig[], name: string) =>
    fileAt(hosts, `/etc/postfix/${name}`)
      ?.content.split("\n")
      .filter((l) => l && !l.startsWith("#"));

  it("adds postmaster to every domain that lacks one, and root and postmaster of the hub's own name, pointing at adminaddr", () => {
    const hosts = hubWith("{}");
    // the inventory's aliases, then those the role adds
    expect(map(hosts, "virtual")).toEqual([
      "root@example.org admin@example.org",
      "abuse@one.example postmaster@one.example",
      "chain@one.example abuse@one.example",
      "ext@one.example bob@one.example, someone@else.example",
      "postmaster@one.example bob@one.example",
      "team@one.example bob@one.example, alice@one.example",
      "postmaster@example.org root@example.org",
      "postmaster@mx1.example.org root@example.org",
      "postmaster@two.example root@example.org",
      "root@mx1.example.org root@example.org",
    ]);
    expect(fileAt(hosts, "/etc/postfix/virtual").content).toContain("# not in the inventory, added for RFC 5321: postmaster of every domain served:\npostmaster@two.example root@example.org");
  });

  it("keeps root and postmaster when the hub's own name is a served domain, never pointing an address at itself", () => {
    const own = (aliases: string, adminaddr = "admin@mx1.example.org") =>
      parseInventory(
        `defaults: { domain: example.org, adminaddr: ${adminaddr} }
hosts:
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    hub: {}
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
    mail:
      domains:
        mx1.example.org: { users: { admin: { password: { env: BOB_ONE } } }${aliases} }
`,
        INV,
      ).hosts;
    expect(map(own(""), "virtual")).toEqual(["postmaster@mx1.example.org admin@mx1.example.org", "root@mx1.example.org admin@mx1.example.org"]);
    expect(fileAt(own(""), "/etc/postfix/main.cf").content).not.toMatch(/^virtual_alias_domains/m);
    expect(map(own(", aliases: { root: admin }"), "virtual")).toEqual(["root@mx1.example.org admin@mx1.example.org", "postmaster@mx1.example.org admin@mx1.example.org"]);
    // an adminaddr that would be the added alias itself is refused, not looped
    expect(errors(() => own("", "root@mx1.example.org"))).toMatch(/adminaddr root@mx1\.example\.org would be refused: hub mx1 serves mx1\.example\.org, which has no user or alias 'root'/);
  });

  it("a mailbox owns itself and the aliases reaching it alone: the sender login map of submission", () => {
    const hosts = hubWith(`{ submission: {}, ${TLS} }`);
    expect(map(hosts, "sender-logins")).toEqual([
      "abuse@one.example bob@one.example",
      "admin@example.org admin@example.org",
      "alice@one.example alice@one.example",
      "bob@one.example bob@one.example",
      "bob@two.example bob@two.example",
      "chain@one.example bob@one.example",
      "postmaster@example.org admin@example.org",
      "postmaster@mx1.example.org admin@example.org",
      "postmaster@one.example bob@one.example",
      "postmaster@two.example admin@example.org",
      "root@example.org admin@example.org",
      "root@mx1.example.org admin@example.org",
    ]);
    const master = fileAt(hosts, "/etc/postfix/master.cf").content;
    expect(master).toContain("  -o smtpd_sender_restrictions=$submission_sender_restrictions\n");
    const cf = fileAt(hosts, "/etc/postfix/main.cf").content;
    expect(cf).toMatch(/^smtpd_sender_login_maps = hash:\/etc\/postfix\/sender-logins$/m);
    expect(cf).toMatch(/^submission_sender_restrictions = reject_sender_login_mismatch, check_sender_access inline:\{ \{ <> = REJECT /m);
    // without submission there is no login to own anything
    expect(hubFiles(hubWith("{}")).find((r) => r.id === "postfix:sender-logins")).toMatchObject({ state: "absent" });
  });

  it("refuses outsiders using a served domain as sender unless hub.outsideSenders is any; VRFY off unless hub.vrfy", () => {
    const strict = hubWith("{}");
    expect(map(strict, "sender-domains")).toEqual([
      "example.org REJECT 5.7.1 mail from example.org is sent by its users through submission, with a login",
      "one.example REJECT 5.7.1 mail from one.example is sent by its users through submission, with a login",
      "two.example REJECT 5.7.1 mail from two.example is sent by its users through submission, with a login",
    ]);
    const cf = fileAt(strict, "/etc/postfix/main.cf").content;
    expect(cf).toMatch(/^smtpd_sender_restrictions = permit_mynetworks, check_sender_access hash:\/etc\/postfix\/sender-domains$/m);
    expect(cf).toMatch(/^disable_vrfy_command = yes$/m);
    expect(cf).toMatch(/^smtpd_forbid_bare_newline = normalize\nsmtpd_forbid_bare_newline_exclusions = \$mynetworks$/m);
    expect(cf).toMatch(/^local_recipient_maps = \$virtual_mailbox_maps\nlocal_transport = error:5\.1\.1 /m);
    const open = fileAt(hubWith("{ outsideSenders: any, vrfy: true }"), "/etc/postfix/main.cf").content;
    expect(open).not.toMatch(/smtpd_sender_restrictions|disable_vrfy_command/);
    expect(errors(() => hubWith("{ outsideSenders: everyone }"))).toMatch(/hub\.outsideSenders: .*"foreign-domains" \| "any"|hub\.outsideSenders: .*foreign-domains.*any/);
  });

  it("refuses alias cycles at validate, naming the cycle (two, three, across domains)", () => {
    const cyc = (aliases1: string, aliases2 = "{}") =>
      errors(() =>
        hubWith(
          "{}",
          `
    mail:
      domains:
        example.org: { users: { admin: { password: { env: BOB_ONE } } }, aliases: { root: admin } }
        one.example: { users: { bob: { password: { env: BOB_ONE } } }, aliases: ${aliases1} }
        two.example: { aliases: ${aliases2} }
`,
        ),
      );
    expect(cyc("{ a: b, b: a }")).toMatch(/mail\.domains\.one\.example\.aliases\.a: aliases a@one\.example -> b@one\.example -> a@one\.example form a cycle/);
    expect(cyc("{ x: y, y: z, z: x }")).toMatch(/aliases x@one\.example -> y@one\.example -> z@one\.example -> x@one\.example form a cycle/);
    expect(cyc("{ a: c@two.example }", "{ c: a@one.example }")).toMatch(/aliases a@one\.example -> c@two\.example -> a@one\.example form a cycle/);
    expect(cyc("{ a: [bob, b], b: a }")).toMatch(/aliases a@one\.example -> b@one\.example -> a@one\.example form a cycle/);
  });
});
