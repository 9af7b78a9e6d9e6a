// Directory settings (the mail store, the persistent spool) are refused at
// validate when they are a system directory, overlap a directory a role
// manages on the platform (Postfix's queue, Dovecot's configuration), or
// overlap each other: the apply would otherwise chown /etc to vmail.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseInventory } from "../../src/engine/inventory.ts";
import { REPO } from "../support/cli.ts";
import { inventoryErrors } from "../support/inventory-errors.ts";

const INV = path.join(REPO, "test/unit/inline.yaml");

const store = (base: string, extra = "") =>
  parseInventory(
    `defaults: { domain: example.org, adminaddr: root@example.org, relay: { host: hub.example.org } }
hosts:
  store:
    platform: debian
    roles: [dovecot${extra ? ", nullmailer" : ""}]
    dovecot: { tls: { cert: /etc/ssl/mail.pem, key: /etc/ssl/private/mail.key }, lmtp: { address: 10.0.0.5, clients: [10.0.0.2] } }
${extra}    mail:
      base: ${JSON.stringify(base)}
      domains: { example.org: { users: { root: { password: { env: X } } } } }
`,
    INV,
  );

describe("mail.base and the other directory settings", () => {
  const refused: Record<string, RegExp> = {
    "/": /\/ is the system directory \//,
    "/etc": /\/etc is the system directory \/etc/,
    "/tmp": /\/tmp is the system directory \/tmp/,
    "/usr": /\/usr is the system directory \/usr/,
    "/usr/local/vmail": /\/usr\/local\/vmail lies inside the system directory \/usr/,
    "/var": /\/var is the system directory \/var/,
    "/var/spool": /\/var\/spool is the system directory \/var\/spool/,
    "/var/spool/postfix": /\/var\/spool\/postfix is Postfix's queue directory \/var\/spool\/postfix \(role postfix-satellite\)/,
    "/var/spool/postfix/vmail": /lies inside Postfix's queue directory \/var\/spool\/postfix/,
    "/etc/dovecot/mail": /lies inside Postfix's configuration directory|lies inside the system directory \/etc|lies inside Dovecot's configuration directory/,
    "/var/spool/smtpd": /is OpenSMTPD's queue \/var\/spool\/smtpd \(role opensmtpd\)/,
    "/home": /\/home is the system directory \/home/,
    "/var/lib": /\/var\/lib is the system directory \/var\/lib/,
    "/run/vmail": /lies inside the system directory \/run/,
  };
  it.each(Object.entries(refused))("%s is refused at its line, saying why", (base, why) => {
    const msg = inventoryErrors(() => store(base));
    expect(msg).toMatch(/inline\.yaml:\d+:\d+: hosts\.store\.mail\.base: /);
    expect(msg).toMatch(why);
    expect(msg).toMatch(/the mail store must be a directory of its own \(e\.g\. \/var\/vmail\)/);
  });

  it.each(["/var/vmail", "/srv/vmail", "/home/vmail", "/var/mail/vhosts", "/data/mail"])("%s is a directory of its own", (base) => {
    expect(store(base).hosts[0]!.name).toBe("store");
  });

  it("two directory settings of one host may not overlap: the mail store and a persistent spool", () => {
    const msg = inventoryErrors(() => store("/var/vmail", "    nullmailer: { persistentSpool: /var/vmail/spool }\n"));
    expect(msg).toMatch(/hosts\.store\.mail\.base: \/var\/vmail contains the persistent spool \/var\/vmail\/spool \(nullmailer\.persistentSpool\)/);
    expect(msg).toMatch(/hosts\.store\.nullmailer\.persistentSpool: \/var\/vmail\/spool lies inside the mail store \/var\/vmail \(mail\.base\)/);
  });
});
