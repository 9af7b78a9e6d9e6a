// Bad input always gets a clear error (file:line:column, field, what is
// allowed), exit 1, no stack trace, and nothing is written.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    allowed: /unknown key 'relya' \(did you mean relay\?\); allowed: .*relay/,
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
    allowed: /expected a whole number from 1 to 65535/,
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

/** A scan host and its store; the scan host's opensmtpd: settings are the line given, at line 15. */
function scanInventoryWith(settings: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-hostile-scan-"));
  const file = path.join(dir, "inventory.yaml");
  writeFileSync(
    file,
    `defaults:
  domain: example.org
  adminaddr: admin@one.example
  mail:
    domains:
      one.example: { users: { admin: { password: { env: PW } } } }
hosts:
  store1:
    platform: debian
    roles: [dovecot]
    address: 10.0.0.7
    transport: { type: local, root: sandbox/store1 }
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
  scan1: { platform: debian, roles: [rspamd, opensmtpd], address: 10.0.0.5, transport: { type: local, root: sandbox/scan1 },
    opensmtpd: ${settings} }
`,
  );
  return { dir, file };
}

const scanCases: { name: string; settings: string; field: string; allowed: RegExp }[] = [
  { name: "a store name with a newline", settings: `{ store: "store1\\nBcc" }`, field: "hosts.scan1.opensmtpd.store", allowed: /the name of a host of this inventory/ },
  { name: "$(...) in the store name", settings: `{ store: "$(reboot)" }`, field: "hosts.scan1.opensmtpd.store", allowed: /the name of a host of this inventory/ },
  { name: "a unicode store name", settings: "{ store: störe1 }", field: "hosts.scan1.opensmtpd.store", allowed: /the name of a host of this inventory/ },
  { name: "$(...) in rspamdUrl", settings: `{ store: store1, rspamdUrl: "http://127.0.0.1:11333/$(reboot)" }`, field: "hosts.scan1.opensmtpd.rspamdUrl", allowed: /http:\/\/host:port/ },
  { name: "quotes in rspamdUrl", settings: `{ store: store1, rspamdUrl: 'http://x:1" -url "y' }`, field: "hosts.scan1.opensmtpd.rspamdUrl", allowed: /http:\/\/host:port/ },
  { name: "a very long rspamdUrl", settings: `{ store: store1, rspamdUrl: "http://${"a".repeat(5000)}:1" }`, field: "hosts.scan1.opensmtpd.rspamdUrl", allowed: /http:\/\/host:port of at most 300 characters/ },
  { name: "a listen address with ;", settings: `{ store: store1, listen: ["10.0.0.5; reboot"] }`, field: "hosts.scan1.opensmtpd.listen.0", allowed: /an IPv4 address/ },
  { name: "a unicode hostname", settings: "{ store: store1, hostname: scän.example.org }", field: "hosts.scan1.opensmtpd.hostname", allowed: /a DNS name/ },
  { name: "the whole internet as relay networks", settings: "{ store: store1, networks: [0.0.0.0/0] }", field: "hosts.scan1.opensmtpd.networks.0", allowed: /at least \/8/ },
  { name: "an unknown filter", settings: `{ store: store1, filter: "rspamd; rm -rf /" }`, field: "hosts.scan1.opensmtpd.filter", allowed: /rspamd.*none|none.*rspamd/ },
];

describe("hostile scan inventories", () => {
  it.each(scanCases)("$name: file:line, what is allowed, exit 1, nothing written", async (c) => {
    const { dir, file } = scanInventoryWith(c.settings);
    const r = await mailfleet(["apply", "--yes", "-i", file], { env: { PW: "pw" } });
    expect(r.code, r.stderr).toBe(1);
    const line = r.stderr.split("\n").find((l) => l.includes(`${c.field}:`));
    expect(line, r.stderr).toBeDefined();
    expect(line).toMatch(/inventory\.yaml:15:\d+: /);
    expect(line).toMatch(c.allowed);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
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
    expect(r.stderr).toMatch(/inventory\.yaml:3:1: defaults\.domain\.0: YAML: Flow sequence/);
  });

  const base = readFileSync(path.join(REPO, "examples/zones.yaml"), "utf8");
  const deepList = `${"[".repeat(3000)}${"]".repeat(3000)}`;
  const raw: { name: string; text: string | Buffer; line: number; column?: number; field: string; message: RegExp }[] = [
    {
      name: "a key repeated on line 4 (reported there, not at 1:1)",
      text: "defaults:\n  domain: example.org\n  adminaddr: root@example.org\n  domain: example.net\n",
      line: 4,
      column: 3,
      field: "defaults.domain",
      message: /YAML: Map keys must be unique/,
    },
    {
      name: "a bad indent",
      text: base.replace("    roles: [nullmailer]\n", "     roles: [nullmailer]\n"),
      line: 13,
      field: "groups.zones.platform",
      message: /YAML: Nested mappings are not allowed in compact mappings/,
    },
    {
      name: "a key repeated whose first value is empty (reported at the repeat, naming the first)",
      text: "defaults:\n  domain:\n  adminaddr: root@example.org\n  domain: example.net\n",
      line: 4,
      column: 3,
      field: "defaults.domain",
      message: /YAML: Map keys must be unique: domain is set twice in this mapping, first at 2:3/,
    },
    {
      name: "a tab before a key (named from the text before it, not from the broken parse)",
      text: base.replace("    roles: [nullmailer]\n", "\troles: [nullmailer]\n"),
      line: 14,
      column: 1,
      field: "groups.zones.platform",
      message: /YAML: Tabs are not allowed as indentation/,
    },
    {
      name: "mappings nested 2,000 deep, then another key",
      text: `defaults:\n  relay:\n${Array.from({ length: 2000 }, (_, i) => `${" ".repeat(i * 2 + 4)}k${i}:`).join("\n")} x\ngroups: {}\n`,
      line: 33,
      field: "defaults.relay.k0.k1",
      message: /nested more than 32 levels deep/,
    },
    { name: "lists nested 3,000 deep", text: `defaults:\n  domain: ${deepList}\n`, line: 2, field: "defaults.domain.0.0", message: /YAML: nested too deeply to read/ },
    { name: "lists nested 100 deep", text: `defaults:\n  domain: ${"[".repeat(100)}${"]".repeat(100)}\n`, line: 2, field: "defaults.domain.0.0", message: /nested more than 32 levels deep/ },
    {
      name: "mappings nested 200 deep",
      text: `defaults:\n  relay:\n${Array.from({ length: 200 }, (_, i) => `${" ".repeat(i * 2 + 4)}k${i}:`).join("\n")} x\n`,
      line: 33,
      field: "defaults.relay.k0.k1",
      message: /nested more than 32 levels deep/,
    },
    {
      name: "an alias bomb (billion laughs)",
      text: `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ndefaults: { domain: *d }\n`,
      line: 2,
      field: "b.0",
      message: /aliases expand to more than 100 copies/,
    },
    { name: "an undefined alias", text: base.replace("  domain: example.org", "  domain: *dom"), line: 5, column: 11, field: "defaults.domain", message: /alias \*dom names no anchor/ },
    { name: "a UTF-16 file", text: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(base, "utf16le")]), line: 1, field: "", message: /the file is not UTF-8 YAML: it starts with a UTF-16 byte order mark/ },
    { name: "UTF-16 without a byte order mark", text: Buffer.from(base, "utf16le"), line: 1, field: "", message: /the file is not UTF-8 YAML: a NUL byte/ },
    { name: "Latin-1 text", text: Buffer.from(base.replace("root@example.org ", "r\xe9sum\xe9@example.org "), "latin1"), line: 6, field: "", message: /not UTF-8 YAML: a byte sequence that is not UTF-8/ },
    {
      name: "a host name with a trailing newline (shown escaped)",
      text: base.replace("      db1:  {", '      "db1\\n":  {'),
      line: 20,
      column: 7,
      field: 'groups.zones.hosts."db1\\n"',
      message: /host name 'db1\\n' is not allowed/,
    },
  ];

  it.each(raw)("$name: positioned error naming the field, exit 1, no stack trace, nothing written", async (c) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-hostile-"));
    const file = path.join(dir, "inventory.yaml");
    writeFileSync(file, c.text);
    for (const cmd of [["validate"], ["plan"], ["apply", "--yes"]]) {
      const r = await mailfleet([...cmd, "-i", file]);
      expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(1);
      const first = r.stderr.split("\n")[0]!;
      // the field, or a field that starts with it (where the parser saw the keys)
      expect(first).toMatch(new RegExp(`^\\S*inventory\\.yaml:${c.line}:${c.column ?? "\\d+"}: ${c.field ? `${c.field.replace(/[.\\]/g, "\\$&")}[^:]*: ` : ""}`));
      expect(first).toMatch(c.message);
      expect(r.stderr).toMatch(/nothing was changed/);
      expect(r.stderr).not.toMatch(/\n\s+at |internal error|TypeError|RangeError|ReferenceError/);
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(dir)).toEqual(["inventory.yaml"]);
  });

  it("the shared example inventories are accepted unchanged", async () => {
    const r = await mailfleet(["validate", "-i", path.join(REPO, "examples/zones.yaml")]);
    expect(withoutProgress(r.stderr)).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("plans run nothing on this machine unless the inventory asks (ssh options, --untrusted)", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-localcmd-"));
  const canary = path.join(dir, "RAN");
  const script = path.join(dir, "proxy.sh");
  writeFileSync(script, `#!/bin/sh\ntouch ${canary}\nexit 1\n`, { mode: 0o755 });
  const write = (transport: string, extra = "") => {
    const file = path.join(dir, "inventory.yaml");
    writeFileSync(
      file,
      `defaults:
  domain: example.org
  relay: { host: relay.example.org }
groups:
  linux:
    platform: debian
    roles: [nullmailer]
    transport: ${transport}
    hosts:
      mx1: { transport: { type: ssh, address: 127.0.0.1, port: 9 } }
${extra}`,
    );
    return file;
  };

  it.each([
    ["ProxyCommand", script],
    ["KnownHostsCommand", script],
    ["LocalCommand", script],
    ["PermitLocalCommand", "yes"],
    ["Match", "exec"],
    ["Include", "/etc/ssh/evil_config"],
    ["PKCS11Provider", "/tmp/evil.so"],
    ["SecurityKeyProvider", "/tmp/evil.so"],
  ])("%s is refused at validate and plan, positioned, unless allowLocalCommands: true", async (option, value) => {
    const file = write(`{ type: ssh, hostKeyChecking: off, options: { ${option}: "${value}" } }`);
    for (const cmd of ["validate", "plan"]) {
      const r = await mailfleet([cmd, "-i", file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`inventory\\.yaml:8:\\d+: groups\\.linux\\.transport\\.options\\.${option}: .*option ${option} .*allowLocalCommands: true`));
    }
    expect(existsSync(canary)).toBe(false);
    const allowed = write(`{ type: ssh, hostKeyChecking: off, allowLocalCommands: true, options: { ${option}: "${value}" } }`);
    expect((await mailfleet(["validate", "-i", allowed])).code).toBe(0);
  });

  it("a ProxyCommand runs at plan only with the opt-in, and never under --untrusted", async () => {
    const refused = write(`{ type: ssh, hostKeyChecking: off, options: { ProxyCommand: "${script}" } }`);
    expect((await mailfleet(["plan", "-i", refused])).code).toBe(1);
    expect(existsSync(canary)).toBe(false);
    const allowed = write(`{ type: ssh, hostKeyChecking: off, allowLocalCommands: true, options: { ProxyCommand: "${script}" } }`);
    const untrusted = await mailfleet(["plan", "--untrusted", "-i", allowed]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/inventory\.yaml:8:\d+: groups\.linux\.transport\.allowLocalCommands: allowLocalCommands is refused under --untrusted/);
    expect(existsSync(canary)).toBe(false);
    const r = await mailfleet(["plan", "-i", allowed]);
    expect(r.code).toBe(1); // the proxy fails, but it ran: the opt-in works
    expect(existsSync(canary)).toBe(true);
    rmSync(canary);
  });

  it("--untrusted refuses { command } secrets, positioned; without it they run", async () => {
    const file = write(
      "{ type: local }",
      `    relay: { host: relay.example.org, auth: { user: u, password: { command: "touch ${canary}; echo pw" } } }\n`,
    );
    for (const cmd of ["validate", "plan", "apply"]) {
      const r = await mailfleet([cmd, "--untrusted", "-i", file, ...(cmd === "apply" ? ["--yes"] : [])]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/inventory\.yaml:11:\d+: groups\.linux\.relay\.auth\.password\.command: a secret command is refused under --untrusted/);
    }
    expect(existsSync(canary)).toBe(false);
    expect((await mailfleet(["validate", "-i", file])).code).toBe(0);
  });
});
