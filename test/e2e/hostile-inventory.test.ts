// Bad input always gets a clear error (file:line:column, field, what is
// allowed), exit 1, no stack trace, and nothing is written.
import { cpSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { mailfleet, REPO, withoutProgress } from "../support/cli.ts";

function inventoryWith(hostLines: string, groupLines = ""): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-hostile-"));
  cpSync(path.join(REPO, "examples/secrets"), path.join(dir, "secrets"), { recursive: true });
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `defaults:
  domain: example.org
  adminaddr: root@example.org
  relay:
    host: relay.example.org
groups:
  zones:
    platform: smartos
    roles: [nullmailer]
${groupLines}    hosts:
      web1:
        transport: { type: local, root: sandbox/web1 }
${hostLines}`,
  );
  return { dir, file };
}

const cases: { name: string; host?: string; group?: string; line: number; field: string; allowed: RegExp }[] = [
  {
    name: "a newline inside adminaddr",
    host: `        adminaddr: "root@example.org\\nBcc: all@example.org"\n`,
    line: 13,
    field: "groups.zones.hosts.web1.adminaddr",
    allowed: /an address local@domain/,
  },
  {
    name: "$(...) in an address",
    host: `        adminaddr: "$(touch /tmp/pwned)@example.org"\n`,
    line: 13,
    field: "groups.zones.hosts.web1.adminaddr",
    allowed: /an address local@domain/,
  },
  {
    name: "backticks in allmailfrom",
    host: "        nullmailer: { allmailfrom: \"`id`@example.org\" }\n",
    line: 13,
    field: "groups.zones.hosts.web1.nullmailer.allmailfrom",
    allowed: /an address local@domain/,
  },
  {
    name: "a relay host with spaces",
    host: `        relay: { host: "relay example org" }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relay.host",
    allowed: /a DNS name, an IPv4 address or an IPv6 address/,
  },
  {
    name: "a relay host with ;",
    host: `        relay: { host: "relay.example.org;reboot" }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relay.host",
    allowed: /a DNS name/,
  },
  {
    name: "port 99999",
    host: `        relay: { port: 99999 }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relay.port",
    allowed: /a port from 1 to 65535/,
  },
  {
    name: "an unknown key",
    host: `        relya: { host: x }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relya",
    allowed: /unknown key 'relya'; allowed: .*relay/,
  },
  {
    name: "an unknown key in a group",
    group: `    nullmailer: { injectshim: auto }\n`,
    line: 10,
    field: "groups.zones.nullmailer.injectshim",
    allowed: /allowed: .*injectShim/,
  },
  {
    name: "a wrong type",
    host: `        relay: { port: "twenty-five" }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relay.port",
    allowed: /expected a number/,
  },
  {
    name: "a wrong enum value",
    host: `        nullmailer: { injectShim: sometimes }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.nullmailer.injectShim",
    allowed: /allowed: auto, always, never/,
  },
  {
    name: "a missing secret file",
    host: `        relay: { auth: { user: relay, password: { file: secrets/does-not-exist } } }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relay.auth.password.file",
    allowed: /does not exist; give a readable file/,
  },
  {
    name: "a very long domain",
    host: `        domain: ${"a".repeat(5000)}.org\n`,
    line: 13,
    field: "groups.zones.hosts.web1.domain",
    allowed: /a DNS name/,
  },
  {
    name: "unicode in a host name",
    host: `        fqdn: "wéb1.example.org"\n`,
    line: 13,
    field: "groups.zones.hosts.web1.fqdn",
    allowed: /a DNS name: letters, digits and '-'/,
  },
  {
    name: "a secret reference of an unknown kind",
    host: `        relay: { auth: { user: relay, password: { vault: "kv/relay" } } }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.relay.auth.password",
    allowed: /\{ env: NAME \}, \{ file: path \} or \{ command: "\.\.\." \}/,
  },
  {
    name: "a path with .. as persistent spool",
    host: `        nullmailer: { persistentSpool: /home/../etc }\n`,
    line: 13,
    field: "groups.zones.hosts.web1.nullmailer.persistentSpool",
    allowed: /without '\.\.'/,
  },
];

/** A hub whose `mail:` takes the lines given at line 12 onwards (domains at 12, users or aliases at 13-14). */
function hubInventoryWith(mailLines: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-hostile-hub-"));
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `defaults:
  domain: example.org
  adminaddr: admin@one.example
hosts:
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    transport: { type: local, root: sandbox/mx1 }
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
    mail:
      domains:
${mailLines}        one.example:
          users: { admin: { password: { env: PW } } }
`,
  );
  return { dir, file };
}

const user = (name: string) => `        one.test:\n          users: { ${name}: { password: { env: PW } } }\n`;
const alias = (name: string, target = "admin@one.example") => `        one.test:\n          aliases: { ${name}: ${target} }\n`;
const domain = (name: string) => `        ${name}: { users: { bob: { password: { env: PW } } } }\n`;
const hubCases: { name: string; mail: string; line: number; field: RegExp; allowed: RegExp }[] = [
  { name: "a domain with a newline", mail: domain(`"one.example\\nBcc"`), line: 12, field: /hosts\.mx1\.mail\.domains\..*: key "/, allowed: /a DNS name/ },
  { name: "a domain with '/'", mail: domain(`"one/../example"`), line: 12, field: /hosts\.mx1\.mail\.domains\..*: key "/, allowed: /a DNS name/ },
  { name: "a domain with '..'", mail: domain("one..example"), line: 12, field: /hosts\.mx1\.mail\.domains\..*: key "/, allowed: /a DNS name/ },
  { name: "a domain with a quote", mail: domain(`"one'example.org"`), line: 12, field: /hosts\.mx1\.mail\.domains\..*: key "/, allowed: /a DNS name/ },
  { name: "a unicode domain", mail: domain("exämple.org"), line: 12, field: /hosts\.mx1\.mail\.domains\..*: key "/, allowed: /a DNS name/ },
  { name: "an upper-case domain", mail: domain("One.Example"), line: 12, field: /hosts\.mx1\.mail\.domains\..*: key "/, allowed: /in lower case/ },
  { name: "a user name with ':'", mail: user(`"bob:0:0"`), line: 13, field: /mail\.domains\.one\.test\.users\..*: key "/, allowed: /a user name: lower-case letters/ },
  { name: "a user name with '/'", mail: user(`"../../etc"`), line: 13, field: /mail\.domains\.one\.test\.users\..*: key "/, allowed: /a user name: lower-case letters/ },
  { name: "a user name with '..'", mail: user("bo..b"), line: 13, field: /mail\.domains\.one\.test\.users\..*: key "/, allowed: /without '\.\.'/ },
  { name: "a user name with a newline", mail: user(`"bob\\nroot"`), line: 13, field: /mail\.domains\.one\.test\.users\..*: key "/, allowed: /a user name/ },
  { name: "a user name with a quote", mail: user(`"bo'b"`), line: 13, field: /mail\.domains\.one\.test\.users\..*: key "/, allowed: /a user name/ },
  { name: "a unicode user name", mail: user("bøb"), line: 13, field: /mail\.domains\.one\.test\.users\..*: key "/, allowed: /a user name/ },
  { name: "an alias with ':'", mail: alias(`"abuse:x"`), line: 13, field: /mail\.domains\.one\.test\.aliases\..*: key "/, allowed: /a user name/ },
  { name: "an alias target with a newline", mail: alias("abuse", `"admin@one.example\\nroot@x.example"`), line: 13, field: /mail\.domains\.one\.test\.aliases\.abuse: /, allowed: /a user of the same domain \(bob\) or an address/ },
  { name: "an alias target with quotes and '/'", mail: alias("abuse", `"'|/bin/sh'@one.example"`), line: 13, field: /mail\.domains\.one\.test\.aliases\.abuse: /, allowed: /a user of the same domain/ },
  { name: "an alias target with '..'", mail: alias("abuse", "../admin"), line: 13, field: /mail\.domains\.one\.test\.aliases\.abuse: /, allowed: /a user of the same domain/ },
];

describe("hostile hub inventories", () => {
  it.each(hubCases)("$name: file:line, what is allowed, exit 1, nothing written", async (c) => {
    const { dir, file } = hubInventoryWith(c.mail);
    const r = await mailfleet(["apply", "--yes", "-i", file], { env: { PW: "pw" } });
    expect(r.code, r.stderr).toBe(1);
    const line = r.stderr.split("\n").find((l) => c.field.test(l));
    expect(line, r.stderr).toBeDefined();
    expect(line).toMatch(new RegExp(`inventory\\.yaml:${c.line}:\\d+: `));
    expect(line).toMatch(c.allowed);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(r.stdout).toBe("");
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
  });
});

describe("hostile inventories", () => {
  it.each(cases)("$name: clear error, exit 1, nothing written", async (c) => {
    const { dir, file } = inventoryWith(c.host ?? "", c.group ?? "");
    for (const cmd of [["validate"], ["plan"], ["apply", "--yes"]]) {
      const r = await mailfleet([...cmd, "-i", file]);
      expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(1);
      const line = r.stderr.split("\n").find((l) => l.includes(c.field));
      expect(line, r.stderr).toBeDefined();
      expect(line).toMatch(new RegExp(`inventory\\.yaml:${c.line}:\\d+: `));
      expect(line).toMatch(c.allowed);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
    }
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
  });

  it("a secret from an unset environment variable stops that host before anything is written", async () => {
    const { dir, file } = inventoryWith(`        relay: { auth: { user: relay, password: { env: MAILFLEET_TEST_UNSET_SECRET } } }\n`);
    const r = await mailfleet(["apply", "--yes", "-i", file]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/environment variable MAILFLEET_TEST_UNSET_SECRET \(a secret\) is not set/);
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
  });

  it("a secret command that fails stops that host and does not echo the command's output", async () => {
    const { dir, file } = inventoryWith(`        relay: { auth: { user: relay, password: { command: "echo hunter2; exit 3" } } }\n`);
    const r = await mailfleet(["plan", "-i", file]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/secret command exited 3/);
    expect(r.stdout + r.stderr).not.toContain("hunter2");
    expect(existsSync(path.join(dir, "sandbox"))).toBe(false);
  });

  it("YAML syntax errors name the position", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-hostile-"));
    const file = path.join(dir, "inventory.yaml");
    writeFileSync(file, "defaults:\n  domain: [example.org\n");
    const r = await mailfleet(["validate", "-i", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inventory\.yaml:\d+:\d+: YAML: /);
  });

  it("the shared example inventories are accepted unchanged", async () => {
    const r = await mailfleet(["validate", "-i", path.join(REPO, "examples/zones.yaml")]);
    expect(withoutProgress(r.stderr)).toBe("");
    expect(r.code).toBe(0);
  });
});
