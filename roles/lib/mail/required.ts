// The addresses a receiving MTA must accept although the inventory may not
// list them (RFC 5321 4.5.1): postmaster of every domain it accepts mail
// for, and the local parts of its own names that its cron mail and bounces
// go to (root, postmaster). Where the inventory names none, they go to the
// host's adminaddr. An address is never pointed at itself: an adminaddr that
// is such an address stays unresolved, and the adminaddr rule says so.
import type { Mail, MailAlias } from "./model.ts";

const byAddress = (a: MailAlias, b: MailAlias) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);

/**
 * The aliases to add to `mail`'s, sorted, each marked `added` with why:
 * postmaster@<domain> for every served domain without one, and
 * <local>@<name> for each of the host's own `names` and `locals` (e.g.
 * [fqdn] and [postmaster, root]) that the inventory does not define. None
 * without an adminaddr (an error at validate).
 */
export function requiredAliases(mail: Mail, adminaddr: string | undefined, names: readonly string[], locals: readonly string[]): MailAlias[] {
  if (!adminaddr) return [];
  const target = adminaddr.toLowerCase();
  const defined = new Set([...mail.users.map((u) => u.address), ...mail.domains.flatMap((d) => d.aliases.map((a) => a.address))]);
  const wanted = new Map<string, string>();
  for (const d of mail.domains) wanted.set(`postmaster@${d.name}`, "RFC 5321: postmaster of every domain served");
  for (const n of names.map((x) => x.toLowerCase())) for (const l of locals) if (!wanted.has(`${l}@${n}`)) wanted.set(`${l}@${n}`, "this host's own name: its cron mail and bounces");
  return [...wanted]
    .filter(([address]) => !defined.has(address) && address !== target)
    .map(([address, added]) => ({ address, targets: [adminaddr], added }))
    .sort(byAddress);
}
