import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InventoryError } from "../../src/inventory/errors.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { mergeSettings } from "../../src/inventory/merge.ts";

const FILE = "/srv/fleet/inventory.yaml";

describe("merge", () => {
  it("defaults < group < host, mappings key by key, lists replaced", () => {
    expect(
      mergeSettings({ relay: { host: "a", port: 25 }, roles: ["x"] }, { relay: { port: 587 } }, { relay: { tls: "starttls" }, roles: ["y"] }),
    ).toEqual({ relay: { host: "a", port: 587, tls: "starttls" }, roles: ["y"] });
  });
  it("a transport of another type replaces the whole transport", () => {
    expect(mergeSettings({ transport: { type: "ssh", address: "gz" } }, { transport: { type: "local", root: "x" } })).toEqual({
      transport: { type: "local", root: "x" },
    });
  });

  describe("a secret reference replaces what a less specific level set there, whole", () => {
    const relay = (password: object) => ({ relay: { host: "r", auth: { user: "u", password } } });
    it("defaults { file }, host { env }: the host's env only; the other way round: the host's file only", () => {
      expect(mergeSettings(relay({ file: "pw" }), relay({ env: "PW" }))).toEqual(relay({ env: "PW" }));
      expect(mergeSettings(relay({ env: "PW" }), relay({ file: "pw" }))).toEqual(relay({ file: "pw" }));
    });
    it("over three levels, the most specific that sets it", () => {
      expect(mergeSettings(relay({ command: "pass x" }), relay({ file: "pw" }), { relay: { port: 2525 } })).toEqual({ relay: { ...relay({ file: "pw" }).relay, port: 2525 } });
    });
    it("a mail user's password, beside the user's other settings", () => {
      const user = (settings: object) => ({ mail: { domains: { "one.example": { users: { bob: settings } } } } });
      expect(mergeSettings(user({ password: { file: "secrets/bob" }, quota: "2G" }), user({ password: { env: "BOB" } }))).toEqual(
        user({ password: { env: "BOB" }, quota: "2G" }),
      );
    });
    it("mappings that are not secret references still merge key by key", () => {
      const users = (u: object) => ({ mail: { domains: { "one.example": { users: u } } } });
      expect(mergeSettings(users({ alice: { password: { env: "A" } } }), users({ bob: { password: { env: "B" } } }))).toEqual(
        users({ alice: { password: { env: "A" } }, bob: { password: { env: "B" } } }),
      );
    });
  });
});

describe("a secret set at two levels", () => {
  const satellite = (defaults: string, host: string) => `defaults:
  domain: example.org
  relay: { host: relay.example.org, auth: { user: u, password: ${defaults} } }
hosts:
  a: { platform: debian, roles: [postfix-satellite], relay: { auth: { user: u, password: ${host} } } }
`;
  it("relay.auth.password: the host's reference only, whatever defaults gave (a file that does not exist is not looked for)", () => {
    expect(parseInventory(satellite("{ file: secrets/none }", "{ env: RELAY_PW }"), FILE).hosts[0]!.relay!.auth!.password).toEqual({ env: "RELAY_PW" });
    const here = fileURLToPath(import.meta.url);
    expect(parseInventory(satellite("{ env: RELAY_PW }", `{ file: ${here} }`), FILE).hosts[0]!.relay!.auth!.password).toEqual({ file: here });
  });

  it("--untrusted looks at what the host uses: a command replaced is not refused, a command that replaces is, at the host", () => {
    expect(parseInventory(satellite('{ command: "pass relay" }', "{ env: RELAY_PW }"), FILE, { untrusted: true }).hosts).toHaveLength(1);
    expect(() => parseInventory(satellite("{ env: RELAY_PW }", '{ command: "pass relay" }'), FILE, { untrusted: true })).toThrow(
      /inventory\.yaml:5:\d+: hosts\.a\.relay\.auth\.password\.command: a secret command is refused under --untrusted/,
    );
  });

  it("a mail user's password: the host's, the user's quota kept from defaults", () => {
    const text = `defaults:
  domain: example.org
  adminaddr: admin@one.example
  mail:
    domains:
      one.example: { users: { admin: { password: { file: secrets/admin }, quota: 2G } } }
hosts:
  mx1:
    platform: debian
    roles: [postfix-hub, dovecot]
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
    mail: { domains: { one.example: { users: { admin: { password: { env: ADMIN_PW } } } } } }
`;
    const mail = parseInventory(text, FILE).hosts[0]!.mail as { domains: Record<string, { users: Record<string, unknown> }> };
    expect(mail.domains["one.example"]!.users.admin).toEqual({ password: { env: "ADMIN_PW" }, quota: "2G" });
  });
});

describe("inventory", () => {
  const text = `
defaults:
  domain: example.org
  relay: { host: relay.example.org }
groups:
  zones:
    platform: smartos
    roles: [nullmailer]
    nullmailer: { injectShim: never }
    hosts:
      web1: { transport: { type: local, root: sandbox/web1 } }
      db1:
        fqdn: db.example.net
        relay: { port: 2525 }
hosts:
  pi: { platform: debian, roles: [nullmailer] }
`;
  it("merges levels and resolves relative paths against the inventory's directory", () => {
    const inv = parseInventory(text, FILE);
    const byName = new Map(inv.hosts.map((h) => [h.name, h]));
    expect([...byName.keys()]).toEqual(["web1", "db1", "pi"]);
    expect(byName.get("web1")!.transport).toEqual({ type: "local", root: "/srv/fleet/sandbox/web1" });
    expect(byName.get("web1")!.fqdn).toBe("web1.example.org");
    expect(byName.get("db1")!.fqdn).toBe("db.example.net");
    expect(byName.get("db1")!.relay).toEqual({ host: "relay.example.org", port: 2525 });
    expect(byName.get("db1")!.nullmailer).toEqual({ injectShim: "never" });
    expect(byName.get("pi")!.transport).toEqual({ type: "local" });
    expect(byName.get("pi")!.group).toBeUndefined();
  });

  const problems = (text: string): string[] => {
    try {
      parseInventory(text, FILE);
    } catch (e) {
      expect(e).toBeInstanceOf(InventoryError);
      return (e as InventoryError).message.split("\n");
    }
    return expect.unreachable() as never;
  };

  it("reports problems of the file's shape with file:line:column and what is allowed", () => {
    const lines = problems("defaults:\n  domain: example.org\nhosts:\n  a: { platform: plan9, roles: [nullmailer], relay: { host: r } }\n  b: { roles: [], relay: { port: 0 } }\n");
    expect(lines[0]).toMatch(new RegExp(`^${path.relative(process.cwd(), FILE)}:4:18: hosts\\.a\\.platform: "plan9" is not allowed; allowed: smartos, debian, freebsd$`));
    expect(lines[1]).toMatch(/:5:\d+: hosts\.b\.relay\.port: 0 is not allowed; a port from 1 to 65535$/);
  });

  it("then what the merged host lacks, pointing at the host", () => {
    const lines = problems("defaults:\n  domain: example.org\nhosts:\n  a: { platform: smartos, roles: [nullmailer] }\n  b: { roles: [] }\n");
    expect(lines).toContainEqual(expect.stringMatching(/:4:3: hosts\.a: role nullmailer needs relay\.host/));
    expect(lines).toContainEqual(expect.stringMatching(/:5:\d+: hosts\.b\.platform: is required .*allowed: smartos, debian, freebsd/));
    expect(lines).toContainEqual(expect.stringMatching(/:5:\d+: hosts\.b\.roles: .*at least one role/));
  });

  it("a typo of a role, a platform or a key: the name it is closest to; a port that is not a number: the range", () => {
    const lines = problems(
      "defaults:\n  domain: example.org\n  adminadr: a@example.org\n  relay: { host: relay.example.org, port: abc }\nhosts:\n  a: { platform: smartOS, roles: [nullmailr] }\n",
    );
    expect(lines).toEqual([
      expect.stringMatching(/:3:3: defaults\.adminadr: unknown key 'adminadr' \(did you mean adminaddr\?\); allowed: /),
      expect.stringMatching(/:4:43: defaults\.relay\.port: "abc" is not allowed; expected a whole number from 1 to 65535$/),
      expect.stringMatching(/:6:18: hosts\.a\.platform: "smartOS" is not allowed \(did you mean smartos\?\); allowed: smartos, debian, freebsd$/),
      expect.stringMatching(/:6:35: hosts\.a\.roles\.0: "nullmailr" is not allowed \(did you mean nullmailer\?\); allowed: nullmailer, /),
    ]);
    expect(problems("hosts:\n  a: { platform: debian, roles: [dkim] }\n").join("\n")).not.toMatch(/did you mean/);
    expect(problems("defaults: { relay: { port: 99999 } }\n")[0]).toMatch(/defaults\.relay\.port: 99999 is not allowed; a port from 1 to 65535$/);
  });

  it("an error for a union names that union's forms", () => {
    const base = "defaults:\n  domain: example.org\n  relay: { host: r.example.org }\nhosts:\n  a:\n    platform: debian\n    roles: [postfix-satellite]\n";
    const mainCf = problems(`${base}    postfix: { mainCf: { smtp_helo_name: { nested: 1 } } }\n`);
    expect(mainCf).toContainEqual(expect.stringMatching(/:8:\d+: hosts\.a\.postfix\.mainCf\.smtp_helo_name: a mapping is not one of the allowed forms: a string, a number or true or false$/));
    const secret = problems(`${base}    relay: { auth: { user: u, password: { vault: x } } }\n`);
    expect(secret).toContainEqual(expect.stringMatching(/hosts\.a\.relay\.auth\.password: a mapping is not one of the allowed forms: \{ env: NAME \}, \{ file: path \} or \{ command: "\.\.\." \}$/));
    const transport = problems(`${base}    transport: { type: telnet }\n`);
    expect(transport).toContainEqual(expect.stringMatching(/hosts\.a\.transport\.type: "telnet" is not allowed; allowed: local, ssh, zlogin, jexec$/));
  });

  it("names the keys of the form that was meant for an unknown key", () => {
    const lines = problems("hosts:\n  a: { platform: debian, domain: example.org, roles: [nullmailer], relay: { host: r }, transport: { type: local, rooot: x } }\n");
    expect(lines).toContainEqual(expect.stringMatching(/hosts\.a\.transport\.rooot: unknown key 'rooot' \(did you mean root\?\); allowed: type, root$/));
  });

  it("a role twice, a role on a platform it does not support, two MTAs: each at the roles list", () => {
    const lines = problems("hosts:\n  a:\n    platform: debian\n    domain: example.org\n    relay: { host: r }\n    roles: [nullmailer, nullmailer, postfix-satellite]\n");
    expect(lines).toContainEqual(expect.stringMatching(/:6:\d+: hosts\.a\.roles: role nullmailer is listed twice for host a/));
    expect(lines).toContainEqual(expect.stringMatching(/:6:\d+: hosts\.a\.roles: roles nullmailer and postfix-satellite exclude each other \(one MTA per host\)/));
  });

  it("an empty inventory is an error, not an empty fleet", () => {
    expect(() => parseInventory("defaults: { domain: example.org }\n", FILE)).toThrow(/defines no hosts/);
  });
});
