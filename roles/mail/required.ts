// The addresses a receiving MTA must accept although the inventory may not
// list them (RFC 5321 4.5.1): postmaster of every domain it accepts mail
// for, and root and postmaster of the host's own name (its cron mail and
// bounces). Where the inventory names none, they go to the host's
// adminaddr. An address is never pointed at itself: an adminaddr that is
// that very address stays unresolved and the adminaddr rule says so.
import type { Mail, MailAlias, MailDomain } from "./model.ts";

/** The local parts every served domain must have: postmaster (RFC 5321 4.5.1). */
export const REQUIRED_IN_EVERY_DOMAIN = ["postmaster"] as const;
/** And those of the host's own name, when that name is a served domain. */
export const REQUIRED_OF_OWN_NAME = ["postmaster", "root"] as const;

const known = (d: MailDomain, local: string) => d.users.some((u) => u.name === local) || d.aliases.some((a) => a.address === `${local}@${d.name}`);

/**
 * `mail` with the missing required addresses added as aliases to `adminaddr`
 * (marked `added`), sorted in with the inventory's own.
 */
export function withRequiredAliases(mail: Mail, adminaddr: string | undefined, ownName: string): Mail {
  if (!adminaddr) return mail;
  const target = adminaddr.toLowerCase();
  const domains = mail.domains.map((d) => {
    const wanted = d.name === ownName.toLowerCase() ? REQUIRED_OF_OWN_NAME : REQUIRED_IN_EVERY_DOMAIN;
    const added: MailAlias[] = wanted
      .filter((local) => !known(d, local) && `${local}@${d.name}` !== target)
      .map((local) => ({
        address: `${local}@${d.name}`,
        targets: [adminaddr],
        added: d.name === ownName.toLowerCase() ? "the hub's own name: its cron mail and bounces" : "RFC 5321: postmaster of every domain served",
      }));
    if (!added.length) return d;
    return { ...d, aliases: [...d.aliases, ...added].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)) };
  });
  return { ...mail, domains };
}
