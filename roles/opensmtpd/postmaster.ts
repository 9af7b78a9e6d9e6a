// Postmaster for every domain the scan host takes mail for (RFC 5321 4.5.1:
// postmaster@ of each domain must be accepted, and "postmaster" without a
// domain too). Computed here from `mail:` and adminaddr; it belongs in the
// shared model (roles/mail) once the hub computes the same.
import type { Mail, MailAlias } from "../mail/model.ts";

/**
 * The aliases the scan host adds besides those of `mail:`: for each served
 * domain with neither a user nor an alias named postmaster (compared without
 * case), `postmaster@<domain>` -> adminaddr; and for each of the scan host's
 * own names (its fqdn, which smtpd completes a bare "postmaster" with, and
 * opensmtpd.hostname) that is not a served domain, `postmaster@<name>` ->
 * adminaddr. Sorted by address; none without an adminaddr (an error at validate).
 */
export function implicitPostmasters(mail: Mail, adminaddr: string | undefined, ownNames: readonly string[]): MailAlias[] {
  if (!adminaddr) return [];
  const served = new Set(mail.domains.map((d) => d.name.toLowerCase()));
  const domains = mail.domains
    .filter((d) => ![...d.users.map((u) => u.name), ...d.aliases.map((a) => a.address.slice(0, a.address.lastIndexOf("@")))].some((n) => n.toLowerCase() === "postmaster"))
    .map((d) => d.name.toLowerCase());
  const own = ownNames.map((n) => n.toLowerCase()).filter((n) => !served.has(n));
  return [...new Set([...domains, ...own])].sort().map((d) => ({ address: `postmaster@${d}`, targets: [adminaddr] }));
}
