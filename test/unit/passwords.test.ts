// Mailbox passwords at scale: hashed once per new password on every core,
// looked up when unchanged, and hashes given by the inventory checked.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { hashSync } from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { dovecot } from "../../roles/dovecot/index.ts";
import { bcryptAll } from "../../roles/lib/mail/bcrypt-pool.ts";
import { passwordHashCache } from "../../roles/lib/mail/password-cache.ts";
import { givenHashProblem, mailboxSalt, passwordHashes } from "../../roles/lib/mail/passwords.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";
import type { FileResource } from "../../src/resources/types.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "mf-pwcache-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// as `doveadm -O pw -s SCHEME -p secret` of Dovecot 2.3.19 printed them
const DOVEADM = {
  "BLF-CRYPT": "{BLF-CRYPT}$2y$05$HdfMkBKwqiySo9nYj6uo.eNml845PahE8zRMAZ1bYU1w7hgTHwWC.",
  "SHA512-CRYPT": "{SHA512-CRYPT}$6$b/JxgrH0LhjtvRgJ$3fz2lLrw5E5TuvRl1yBmB7B.JWTYS8sKWM3Kw2ge5LM301TkeokEACLVjDK2CNYXAxO1hHZwM5BKL72vZB5Hn.",
  "SHA256-CRYPT": "{SHA256-CRYPT}$5$GMxlZ9K0L0lGqyQ4$0IYb/YwO7926HpBLeiKS1yvE3wAkoVf7LpB/0YT6kkA",
  ARGON2ID: "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$KAgXY9yhd1OGnuIPixlkMA$WUIeGVXA/SxP9dd4itr48c0Vhy8BuFm77nEIr15rzHs",
  ARGON2I: "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$45ro2vjHlVRMBlFTkJx7qw$Spl/ifcy9ox9JqbzOXi/aLF5vQ91PxU3GE+7vrnYn3A",
};

describe("bcrypt on every core", () => {
  it("gives, in order, exactly the hashes one thread gives", () => {
    const jobs = Array.from({ length: 6 }, (_, i) => ({ password: `pw${i}`, salt: mailboxSalt(`u${i}@one.example`).replace("$10$", "$04$") }));
    expect(bcryptAll(jobs, 2)).toEqual(jobs.map((j) => hashSync(j.password, j.salt)));
  });

  it("says so when a thread fails, rather than returning fewer hashes", () => {
    expect(() => bcryptAll(Array.from({ length: 4 }, () => ({ password: "x", salt: "not a salt" })), 2)).toThrow(/^bcrypt: /);
  });
});

describe("the password hash cache", () => {
  const mailboxes = [
    { address: "bob@one.example", password: "one's pass" },
    { address: "bob@two.example", password: "two's pass" },
  ];

  it("answers an unchanged password from the cache and a changed one by hashing it, with the hash a run without the cache computes", () => {
    const dir = tempDir();
    const cold = passwordHashes(mailboxes, null);
    expect(passwordHashes(mailboxes, passwordHashCache(dir))).toEqual(cold);
    const lines = () => readFileSync(path.join(dir, "password-hashes"), "utf8").split("\n").filter(Boolean);
    expect(lines()).toHaveLength(2);
    expect(passwordHashes(mailboxes, passwordHashCache(dir))).toEqual(cold);
    expect(lines()).toHaveLength(2);
    const changed = [mailboxes[0]!, { address: "bob@two.example", password: "new" }];
    expect(passwordHashes(changed, passwordHashCache(dir))).toEqual([cold[0], passwordHashes([changed[1]!], null)[0]]);
    expect(lines()).toHaveLength(3);
    // neither the passwords nor an unkeyed digest of them are in the file: a MAC and the bcrypt hash
    expect(lines().every((l) => /^[0-9a-f]{64} \$2b\$10\$[./A-Za-z0-9]{53}$/.test(l))).toBe(true);
    expect(readFileSync(path.join(dir, "password-hashes"), "utf8")).not.toMatch(/pass|new/);
    expect(statSync(path.join(dir, "password-hashes")).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, "password-hashes.key")).mode & 0o777).toBe(0o600);
  });

  it("never takes a line whose hash has another mailbox's salt, and is not used when others can read its key", () => {
    const dir = tempDir();
    const cache = passwordHashCache(dir)!;
    const [a] = mailboxes;
    cache.put(a!.address, a!.password, mailboxSalt(a!.address), `${mailboxSalt("eve@one.example")}${"x".repeat(31)}`);
    expect(cache.get(a!.address, a!.password, mailboxSalt(a!.address))).toBeUndefined();

    const loose = tempDir();
    writeFileSync(path.join(loose, "password-hashes.key"), "ab".repeat(32));
    chmodSync(path.join(loose, "password-hashes.key"), 0o644);
    expect(passwordHashCache(loose)).toBeNull();
  });
});

describe("hashes given by the inventory", () => {
  it("accepts what doveadm pw prints for each slow scheme", () => {
    for (const [scheme, hash] of Object.entries(DOVEADM)) expect([scheme, givenHashProblem(hash)]).toEqual([scheme, undefined]);
  });

  it("refuses plain and fast schemes, a missing scheme, and malformed or multi-line hashes, saying what is accepted", () => {
    expect(givenHashProblem("{PLAIN}secret")).toMatch(/^PLAIN is not accepted: a plain or fast scheme .*give one of BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, ARGON2ID, ARGON2I$/);
    expect(givenHashProblem("{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=")).toMatch(/^SHA256 is not accepted/);
    expect(givenHashProblem("$6$b/JxgrH0LhjtvRgJ$3fz2")).toMatch(/^a hash as `doveadm pw` prints it/);
    expect(givenHashProblem(`${DOVEADM["BLF-CRYPT"]}\nbob@two.example:{PLAIN}x`)).toMatch(/^not a well-formed BLF-CRYPT hash/);
    expect(givenHashProblem(`${DOVEADM["SHA512-CRYPT"]}:0:0`)).toMatch(/^not a well-formed SHA512-CRYPT hash/);
  });

  const INV = path.join(REPO, "test/unit/inline.yaml");
  const hub = (users: string) =>
    parseInventory(
      `defaults: { domain: example.org, adminaddr: bob@one.example }
hosts:
  mx1:
    platform: debian
    roles: [dovecot]
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key } }
    mail:
      domains:
        one.example:
          users:
${users}`,
      INV,
    ).hosts;

  it("are refused at validate, with the field's position, when malformed, of a fast scheme, or given with a password too", () => {
    expect(inventoryErrors(() => hub(`            bob: { passwordHash: "{PLAIN}secret" }\n`))).toMatch(
      /inline\.yaml:11:\d+: hosts\.mx1\.mail\.domains\.one\.example\.users\.bob\.passwordHash: PLAIN is not accepted/,
    );
    expect(inventoryErrors(() => hub(`            bob: { password: { env: X }, passwordHash: "${DOVEADM["BLF-CRYPT"]}" }\n`))).toMatch(
      /users\.bob: give the mailbox either password or passwordHash \(one of them, not both\)/,
    );
    expect(inventoryErrors(() => hub(`            bob: { quota: 1G }\n`))).toMatch(/users\.bob: give the mailbox either password or passwordHash/);
  });

  it("go into the passwd-file as given (inline or read as a secret, then checked), beside hashed passwords", () => {
    const hosts = hub(`            bob: { passwordHash: "${DOVEADM["SHA512-CRYPT"]}" }
            carol: { passwordHash: { env: CAROL_HASH } }
            dave: { password: { env: DAVE } }
`);
    const values: Record<string, string> = { CAROL_HASH: `${DOVEADM.ARGON2ID}\n`, DAVE: "dave's pass" };
    const secrets: SecretResolver = { value: (ref) => ("env" in ref ? values[ref.env]! : "x"), revealed: () => Object.values(values) };
    const users = () =>
      roleResources(dovecot, hosts[0]!, { secrets, fleet: hosts }).find((r): r is FileResource => r.kind === "file" && r.id === "dovecot:passwd-file")!.content;
    const lines = users().split("\n");
    expect(lines.find((l) => l.startsWith("bob@one.example:"))).toMatch(`bob@one.example:${DOVEADM["SHA512-CRYPT"]}:`);
    expect(lines.find((l) => l.startsWith("carol@one.example:"))).toMatch(`carol@one.example:${DOVEADM.ARGON2ID}:`);
    expect(lines.find((l) => l.startsWith("dave@one.example:"))).toMatch(`dave@one.example:${passwordHashes([{ address: "dave@one.example", password: "dave's pass" }], null)[0]}:`);
    values.CAROL_HASH = "{MD5}1a1dc91c907325c69271ddf0c944bc72";
    expect(users).toThrow(/^the passwordHash of carol@one\.example is refused: MD5 is not accepted/);
  });
});
