import path from "node:path";
import { describe, expect, it } from "vitest";
import { postfixSatellite } from "../../roles/postfix-satellite/index.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { maskSaslPasswd } from "../../roles/postfix-satellite/maps.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { applyScript } from "../../src/engine/scripts.ts";
import { loadInventory, parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { CommandResource, FileResource, HostContext, PackageResource, Resource } from "../../src/resources/types.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const secrets: SecretResolver = { value: () => "s3cret pass", revealed: () => ["s3cret pass"] };
const INV = path.join(REPO, "test/unit/inline.yaml");

function hostFrom(yaml: string): HostConfig {
  return parseInventory(yaml, INV).hosts[0]!;
}

function satellite(postfix = "", relay = "relay: { host: hub.example.org, port: 587, tls: starttls, auth: { user: u1, password: { env: RELAY_PW } } }"): HostConfig {
  return hostFrom(`
defaults: { domain: example.org }
hosts:
  pi:
    platform: debian
    roles: [postfix-satellite]
    ${relay}
${postfix ? `    postfix: ${postfix}` : ""}
`);
}

const resources = (h: HostConfig) => roleResources(postfixSatellite, h, { platform: debian, secrets });
const file = (rs: Resource[], p: string) => rs.find((r): r is FileResource => r.kind === "file" && r.path === p);
const mainCf = (h: HostConfig) => file(resources(h), "/etc/postfix/main.cf")!.content;
const setting = (cf: string, name: string) => cf.split("\n").find((l) => l.startsWith(`${name} =`))?.slice(name.length + 3);

const errors = (yaml: string): string => inventoryErrors(() => parseInventory(yaml, INV));

describe("postfix-satellite inventory", () => {
  it("accepts both shared inventories unchanged", () => {
    const fleet = loadInventory(path.join(REPO, "examples/sandbox-fleet.yaml"));
    expect(fleet.hosts.map((h) => h.name)).toEqual(["web1", "db1", "pi"]);
    const pi = fleet.hosts.find((h) => h.name === "pi")!;
    expect(pi.roles).toEqual(["postfix-satellite"]);
    expect(pi.postfix).toEqual({ senderCanonical: "static", recipientCanonical: "admin@example.org", replyTo: "admin@example.org" });
    expect(loadInventory(path.join(REPO, "examples/zones.yaml")).hosts).toHaveLength(2);
  });

  it("names file:line, the field and what is allowed for bad values", () => {
    const msg = errors(`
hosts:
  pi:
    platform: debian
    domain: example.org
    roles: [postfix-satellite]
    relay: { host: hub.example.org }
    postfix: { senderCanonical: dynamic, tlsLevel: maybe, mainCf: { "Bad-Name": 1 } }
`);
    expect(msg).toMatch(/inline\.yaml:8:\d+: .*postfix\.senderCanonical: "dynamic" is not allowed/);
    expect(msg).toMatch(/postfix\.tlsLevel: "maybe" is not allowed; allowed: none, may, encrypt, verify, secure/);
    expect(msg).toMatch(/postfix\.mainCf\.Bad-Name: key "Bad-Name" is not allowed; a main\.cf parameter name/);
  });

  it("applies cross-field rules", () => {
    const base = (relay: string, postfix = "{}", roles = "[postfix-satellite]") => `
hosts:
  pi:
    platform: debian
    domain: example.org
    roles: ${roles}
    ${relay ? `relay: ${relay}` : ""}
    postfix: ${postfix}
`;
    expect(errors(base(""))).toMatch(/inline\.yaml:3:3: .*role postfix-satellite needs relay\.host/);
    expect(errors(base("{ host: h.example, tls: none, auth: { user: u, password: { env: X } } }"))).toMatch(/relay\.tls must be starttls or tls/);
    expect(errors(base("{ host: h.example, auth: { user: u, password: { env: X } } }", "{ tlsLevel: may }"))).toMatch(/postfix\.tlsLevel must be encrypt, verify, secure, not may/);
    expect(errors(base("{ host: h.example, protocol: qmqp }"))).toMatch(/relays over SMTP only/);
    expect(errors(base("{ host: h.example }", "{ mainCf: { relayhost: x } }"))).toMatch(/postfix\.mainCf\.relayhost is written by the role itself/);
    expect(errors(base("{ host: h.example }", "{}", "[nullmailer, postfix-satellite]"))).toMatch(/exclude each other/);
    expect(errors(base("{ host: h.example, auth: { user: 'a:b', password: { env: X } } }"))).toMatch(/cannot hold ':' or whitespace/);
  });
});

describe("postfix-satellite role", () => {
  it("renders a null client relaying to [host]:port with SASL over TLS", () => {
    const cf = mainCf(satellite());
    expect(setting(cf, "compatibility_level")).toBe("3.6");
    expect(setting(cf, "myhostname")).toBe("pi.example.org");
    expect(setting(cf, "myorigin")).toBe("/etc/mailname");
    expect(setting(cf, "mydestination")).toBe("");
    expect(setting(cf, "inet_interfaces")).toBe("loopback-only");
    expect(setting(cf, "mynetworks")).toBe("127.0.0.0/8 [::1]/128");
    expect(setting(cf, "relayhost")).toBe("[hub.example.org]:587");
    expect(setting(cf, "smtp_sasl_auth_enable")).toBe("yes");
    expect(setting(cf, "smtp_sasl_security_options")).toBe("noanonymous");
    expect(setting(cf, "smtp_sasl_password_maps")).toBe("hash:/etc/postfix/sasl_passwd");
    expect(setting(cf, "smtp_tls_security_level")).toBe("encrypt");
    expect(setting(cf, "smtp_sender_dependent_authentication")).toBeUndefined();
    expect(setting(cf, "sender_canonical_maps")).toBeUndefined();
  });

  it("keys sasl_passwd exactly like relayhost, mode 0600, and masks the password in diffs", () => {
    const rs = resources(satellite());
    const sasl = file(rs, "/etc/postfix/sasl_passwd")!;
    expect(sasl.mode).toBe(0o600);
    expect(sasl.owner).toBe("root");
    const entry = sasl.content.split("\n").find((l) => l.startsWith("["))!;
    expect(entry).toBe("[hub.example.org]:587 u1:s3cret pass");
    expect(entry.split(" ")[0]).toBe(setting(mainCf(satellite()), "relayhost"));
    expect(maskSaslPasswd(sasl.content)).not.toContain("s3cret");
    expect(maskSaslPasswd(sasl.content)).toContain("[hub.example.org]:587 u1:********");
    const plan = diffHost(rs, new Map(), hostContext(debian, ""));
    const change = plan.find((c) => c.id === "postfix:sasl_passwd")!;
    expect(change.diff).toContain("u1:********");
    expect(change.diff).not.toContain("s3cret");
  });

  it("runs postmap (never -p) when sasl_passwd changes and makes the .db 0600", () => {
    const rs = resources(satellite());
    const postmap = rs.find((r): r is CommandResource => r.kind === "command" && r.id === "postfix:postmap-sasl_passwd")!;
    expect(postmap.command.sh).toBe("/usr/sbin/postmap -c /etc/postfix hash:/etc/postfix/sasl_passwd");
    expect(postmap.command.sh).not.toMatch(/\s-p\b/);
    expect(postmap.inputs).toEqual(["postfix:sasl_passwd"]);
    expect(postmap.creates).toEqual([{ path: "/etc/postfix/sasl_passwd.db", mode: 0o600, owner: "root", group: "root" }]);
    const service = rs.find((r) => r.kind === "service")!;
    expect(service).toMatchObject({ name: "postfix", onChange: "reload" });
    expect(service.kind === "service" && service.check?.sh).toMatch(/^\/usr\/sbin\/postfix -c \/etc\/postfix check && ! \/usr\/sbin\/postconf -c \/etc\/postfix -n /);
    expect(service.kind === "service" && service.inputs).toEqual([
      "postfix:mailname",
      "postfix:main.cf",
      "postfix:header_checks",
      "postfix:recipient_canonical",
      "postfix:postmap-sasl_passwd",
    ]);
  });

  it("installs postfix without debconf prompts, and libsasl2-modules only with auth", () => {
    const rs = resources(satellite());
    const pkgs = rs.filter((r): r is PackageResource => r.kind === "package");
    expect(pkgs.map((p) => p.name)).toEqual(["postfix", "libsasl2-modules"]);
    const ctx: HostContext = hostContext(debian, "");
    const script = applyScript(rs, [{ id: "postfix:package", kind: "package", action: "install", target: "postfix", summary: "" }], ctx);
    const preseed = script.indexOf("debconf-set-selections");
    expect(preseed).toBeGreaterThan(0);
    expect(script).toContain("'postfix postfix/main_mailer_type select No configuration'");
    expect(script.indexOf("DEBIAN_FRONTEND=noninteractive apt-get install")).toBeGreaterThan(preseed);

    const plain = resources(satellite("", "relay: { host: hub.example.org }"));
    expect(plain.filter((r) => r.kind === "package").map((r) => (r as PackageResource).name)).toEqual(["postfix"]);
    expect(file(plain, "/etc/postfix/sasl_passwd")!.state).toBe("absent");
    expect(file(plain, "/etc/postfix/sasl_passwd.db")!.state).toBe("absent");
    const cf = mainCf(satellite("", "relay: { host: hub.example.org }"));
    expect(setting(cf, "relayhost")).toBe("[hub.example.org]:25");
    expect(setting(cf, "smtp_sasl_auth_enable")).toBeUndefined();
    expect(setting(cf, "smtp_tls_security_level")).toBe("may");
  });

  it("rewrites senders and recipients and adds Reply-To when asked", () => {
    const h = satellite("{ senderCanonical: static, recipientCanonical: admin@example.org, replyTo: ops@example.org }");
    const cf = mainCf(h);
    expect(setting(cf, "sender_canonical_maps")).toBe("static:pi");
    expect(setting(cf, "masquerade_domains")).toBe("example.org");
    expect(setting(cf, "recipient_canonical_maps")).toBe("static:admin@example.org");
    expect(setting(cf, "header_checks")).toBe("regexp:/etc/postfix/header_checks");
    const hc = file(resources(h), "/etc/postfix/header_checks")!.content;
    expect(hc).toContain("/^From:/ PREPEND Reply-To: ops@example.org");
    expect(hc).toContain("/^Reply-To:/ IGNORE");
  });

  it("adminaddr: mail for the host's own users goes there, every other recipient to recipientCanonical", () => {
    const withAdmin = (postfix: string) =>
      hostFrom(`
defaults: { domain: example.org, adminaddr: ops+cron@example.org }
hosts:
  pi: { platform: debian, roles: [postfix-satellite], relay: { host: hub.example.org }, postfix: ${postfix} }
`);
    const both = withAdmin("{ recipientCanonical: admin@example.org, myhostname: mail.pi.example.org }");
    expect(setting(mainCf(both), "recipient_canonical_maps")).toBe("regexp:/etc/postfix/recipient_canonical, static:admin@example.org");
    const map = file(resources(both), "/etc/postfix/recipient_canonical")!;
    expect(map.content.split("\n").filter((l) => l.startsWith("/"))).toEqual([
      "/^[^@]+@(mail\\.pi\\.example\\.org|pi\\.example\\.org|localhost|localhost\\.localdomain)$/ ops+cron@example.org",
      "/^ops\\+cron@example\\.org$/ ops+cron@example.org",
    ]);
    expect(setting(mainCf(withAdmin("{}")), "recipient_canonical_maps")).toBe("regexp:/etc/postfix/recipient_canonical");
    // without adminaddr: no map, and recipientCanonical alone
    const none = satellite("{ recipientCanonical: admin@example.org }");
    expect(setting(mainCf(none), "recipient_canonical_maps")).toBe("static:admin@example.org");
    expect(file(resources(none), "/etc/postfix/recipient_canonical")!.state).toBe("absent");
  });

  it("sender-dependent authentication, generic maps, lmdb, wrapper mode and IPv6 relays", () => {
    const h = satellite(
      "{ mapType: lmdb, senderAuth: { 'backup@example.org': { user: bk, password: { env: BK } } }, genericMaps: { root: 'pi@example.org' } }",
      "relay: { host: '2001:db8::25', tls: tls, caFile: /etc/ssl/relay-ca.pem, auth: { user: u1, password: { env: RELAY_PW } } }",
    );
    const rs = resources(h);
    const cf = mainCf(h);
    expect(setting(cf, "relayhost")).toBe("[ipv6:2001:db8::25]:465");
    expect(setting(cf, "smtp_tls_wrappermode")).toBe("yes");
    expect(setting(cf, "smtp_tls_CAfile")).toBe("/etc/ssl/relay-ca.pem");
    expect(setting(cf, "smtp_sender_dependent_authentication")).toBe("yes");
    expect(setting(cf, "smtp_sasl_password_maps")).toBe("lmdb:/etc/postfix/sasl_passwd");
    expect(setting(cf, "smtp_generic_maps")).toBe("lmdb:/etc/postfix/generic");
    expect(file(rs, "/etc/postfix/sasl_passwd")!.content).toContain("backup@example.org bk:s3cret pass\n[ipv6:2001:db8::25]:465 u1:s3cret pass\n");
    expect(rs.filter((r) => r.kind === "package").map((r) => (r as PackageResource).name)).toContain("postfix-lmdb");
    const pm = rs.find((r): r is CommandResource => r.id === "postfix:postmap-generic")!;
    expect(pm.creates[0]).toMatchObject({ path: "/etc/postfix/generic.lmdb", mode: 0o644 });
  });

  it("writes extra main.cf settings; removing a key removes its line", () => {
    const withExtra = mainCf(satellite("{ mainCf: { message_size_limit: 20480000, smtputf8_enable: false, smtp_helo_name: '$myhostname' } }"));
    expect(setting(withExtra, "message_size_limit")).toBe("20480000");
    expect(setting(withExtra, "smtputf8_enable")).toBe("no");
    expect(setting(withExtra, "smtp_helo_name")).toBe("$myhostname");
    const without = mainCf(satellite("{ mainCf: { message_size_limit: 20480000 } }"));
    expect(setting(without, "smtputf8_enable")).toBeUndefined();
    expect(without).not.toContain("smtp_helo_name");
  });
});
