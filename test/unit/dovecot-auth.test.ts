// The dovecot role's logins without a host: what dovecot.conf and
// auth-limits.lua say for the default bounds, the inventory's bounds and none,
// the TLS-only rule and dovecot.localPlaintext, and what validate refuses
// (wrong bounds; the limits where Dovecot has no Lua passdb). The daemon's
// side of it: test/e2e/dovecot-exposed.test.ts.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dovecot } from "../../roles/dovecot/index.ts";
import { authLimitsOf, tlsOnlyNets } from "../../roles/dovecot/resources.ts";
import { AUTH_LIMIT_DEFAULTS } from "../../roles/dovecot/schema.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";
import type { FileResource, Resource } from "../../src/resources/types.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const INV = path.join(REPO, "test/unit/inline.yaml");
const secrets: SecretResolver = { value: () => "pw", revealed: () => ["pw"] };
const TLS = "{ cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key }";

function store(dovecotExtra = "", platform = "debian"): HostConfig {
  return parseInventory(
    `defaults:
  domain: example.org
  mail:
    domains:
      one.example: { users: { bob: { password: { env: PW } } } }
hosts:
  store1:
    platform: ${platform}
    roles: [dovecot]
    address: 10.0.0.7
    dovecot:
      tls: ${TLS}
${dovecotExtra}`,
    INV,
  ).hosts[0]!;
}

const resources = (h: HostConfig): Resource[] => roleResources(dovecot, h, { secrets, fleet: [h] });
const file = (rs: Resource[], id: string) => rs.find((r): r is FileResource => r.kind === "file" && r.id === id)!;
const conf = (h: HostConfig) => file(resources(h), "dovecot:dovecot.conf").content;

describe("the dovecot role's logins: TLS only, bounded guessing", () => {
  it("by default: the Lua passdb before and after passwd-file (one module: the same args), its script with the default bounds, its package, a reload when it changes", () => {
    const rs = resources(store());
    const c = file(rs, "dovecot:dovecot.conf").content;
    const lua = "passdb {\n  driver = lua\n  args = file=/etc/dovecot/auth-limits.lua blocking=no\n";
    expect(c.split(lua)).toHaveLength(3);
    expect(c).toContain(`${lua}  result_internalfail = return-fail\n}\npassdb {\n  driver = passwd-file\n`);
    expect(c).toMatch(/ override_fields = allow_nets=\S+\n  result_success = continue-ok\n  result_failure = return-fail\n  result_internalfail = return-fail\n\}\n/);
    expect(c).toContain(`${lua}  skip = unauthenticated\n}\nuserdb {`);
    expect(c).toMatch(/^auth_cache_size = 0$/m);
    expect(c).toMatch(/^service auth \{\n  process_limit = 1\n\}$/m);
    expect(c).toMatch(/^auth_verbose = yes$/m);

    const script = file(rs, "dovecot:auth-limits");
    expect([script.path, script.mode, script.owner, script.group, script.state]).toEqual(["/etc/dovecot/auth-limits.lua", 0o644, "root", "root", undefined]);
    expect(AUTH_LIMIT_DEFAULTS).toEqual({ window: 3600, clientFailures: 10, accountFailures: 10, newClientInterval: 300 });
    for (const line of ["local WINDOW = 3600", "local CLIENT_FAILURES = 10", "local ACCOUNT_FAILURES = 10", "local NEW_CLIENT_INTERVAL = 300"]) expect(script.content).toContain(`\n${line}\n`);
    expect(script.content).toMatch(/^function auth_password_verify\(req, password\)$/m);
    // a template variable left in the script would be a Lua syntax error at Dovecot's start
    expect(script.content).not.toMatch(/\{\{|\}\}/);

    expect(rs.filter((r) => r.kind === "package").map((r) => (r as { name: string }).name)).toEqual(["dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd", "dovecot-auth-lua"]);
    const service = rs.find((r) => r.kind === "service") as { inputs: string[] };
    expect(service.inputs).toEqual(["dovecot:dovecot.conf", "dovecot:auth-limits", "dovecot:mail-store"]);
  });

  it("the inventory's bounds reach the script and the comment of dovecot.conf; unnamed ones keep their defaults", () => {
    const h = store("      authLimits: { window: 900, accountFailures: 5 }\n");
    const script = file(resources(h), "dovecot:auth-limits").content;
    for (const line of ["local WINDOW = 900", "local CLIENT_FAILURES = 10", "local ACCOUNT_FAILURES = 5", "local NEW_CLIENT_INTERVAL = 300"]) expect(script).toContain(`\n${line}\n`);
    expect(conf(h)).toMatch(/at most\n# 10 per client, 5 per account in 900 s; then one attempt per 300 s/);
    expect(authLimitsOf({ authLimits: { clientFailures: 3 } })).toEqual({ ...AUTH_LIMIT_DEFAULTS, clientFailures: 3 });
  });

  it("authLimits: false: no Lua passdb, the script removed, no Lua package; TLS only all the same", () => {
    const rs = resources(store("      authLimits: false\n"));
    const c = file(rs, "dovecot:dovecot.conf").content;
    expect(c).not.toMatch(/driver = lua|auth-limits|process_limit|result_success/);
    expect(c).toContain("  args = scheme=BLF-CRYPT username_format=%Lu /etc/dovecot/users\n");
    expect(c).toContain(`  override_fields = allow_nets=${tlsOnlyNets(false)}\n}\n`);
    expect(file(rs, "dovecot:auth-limits")).toMatchObject({ state: "absent", content: "" });
    expect(rs.filter((r) => r.kind === "package").map((r) => (r as { name: string }).name)).not.toContain("dovecot-auth-lua");
  });

  it("logins over TLS only, whatever the address; dovecot.localPlaintext lets the host's own clients in without it", () => {
    // TLS (secured=tls), or Postfix's SMTP AUTH over its TLS session (service smtp, secured): the client's own address
    expect(tlsOnlyNets(false)).toBe("%{if;%{secured};eq;TLS;%{rip},local;%{if;%{service}/%{secured};eq;smtp/secured;%{rip},local;local}}");
    expect(conf(store())).toContain(`  override_fields = allow_nets=${tlsOnlyNets(false)}\n`);
    expect(conf(store())).toMatch(/Logins only over TLS, whatever the client's address/);
    // any secured connection: TLS, or source address = destination address
    expect(tlsOnlyNets(true)).toBe("%{if;%{secured};ne;;%{rip},local;local}");
    const local = conf(store("      localPlaintext: true\n"));
    expect(local).toContain(`  override_fields = allow_nets=${tlsOnlyNets(true)}\n`);
    expect(local).toMatch(/Logins over TLS, or from this host itself \(dovecot\.localPlaintext\)/);
  });

  it("TLS 1.2 and up, forward-secret AEAD suites only, the server's order", () => {
    const c = conf(store());
    expect(c).toMatch(/^ssl = required$/m);
    expect(c).toMatch(/^ssl_min_protocol = TLSv1\.2$/m);
    const suites = /^ssl_cipher_list = (.*)$/m.exec(c)![1]!.split(":");
    expect(suites).toHaveLength(9);
    for (const s of suites) expect(s).toMatch(/^(ECDHE-(ECDSA|RSA)|DHE-RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(c).toMatch(/^ssl_prefer_server_ciphers = yes$/m);
  });

  it("with Postfix's submission on the host: one service auth with the limit and the socket", () => {
    const h = parseInventory(
      `defaults:
  domain: example.org
  adminaddr: bob@one.example
  mail:
    domains:
      one.example: { users: { bob: { password: { env: PW } } } }
hosts:
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    address: 10.0.0.7
    hub: { submission: {}, tls: ${TLS} }
    dovecot: { tls: ${TLS} }
`,
      INV,
    ).hosts[0]!;
    expect(conf(h)).toMatch(/^service auth \{\n  process_limit = 1\n  unix_listener \/var\/spool\/postfix\/private\/auth \{\n    mode = 0660\n    user = postfix\n    group = postfix\n  \}\n\}$/m);
    expect(conf(h).match(/^service auth \{/gm)).toHaveLength(1);
  });

  it("validate refuses bounds out of range, and the limits where Dovecot has no Lua passdb (smartos, freebsd) unless authLimits is false", () => {
    expect(inventoryErrors(() => store("      authLimits: { clientFailures: 0 }\n"))).toMatch(/inline\.yaml:\d+:\d+: .*dovecot\.authLimits.*clientFailures.*at least 1/s);
    expect(inventoryErrors(() => store("      authLimits: { window: 1h }\n"))).toMatch(/inline\.yaml:\d+:\d+: .*window/);
    expect(inventoryErrors(() => store("      authLimits: true\n"))).toMatch(/inline\.yaml:\d+:\d+: .*authLimits/);
    for (const platform of ["smartos", "freebsd"]) {
      const why = platform === "smartos" ? /pkgsrc's dovecot \(mail\/dovecot2\) is built without Lua/ : /FreeBSD's dovecot package is built without the port's LUA option/;
      const implicit = inventoryErrors(() => store("", platform));
      expect(implicit).toMatch(/inline\.yaml:\d+:\d+: hosts\.store1\.dovecot: dovecot\.authLimits \(bounds on password guessing per client and per account\) needs Dovecot's Lua passdb/);
      expect(implicit).toMatch(why);
      expect(implicit).toMatch(/write authLimits: false to run without them/);
      expect(inventoryErrors(() => store("      authLimits: { window: 60 }\n", platform))).toMatch(/inline\.yaml:\d+:\d+: hosts\.store1\.dovecot\.authLimits: /);
      const off = store("      authLimits: false\n", platform);
      expect(conf(off)).not.toMatch(/driver = lua/);
      expect(conf(off)).toContain("override_fields = allow_nets=");
    }
  });
});
