// Rules about `mail:` that every role reading it applies (the loader reports
// a problem found twice once): aliases point somewhere real, no name is both
// a user and an alias; and, for the MTA that accepts the domains, every
// adminaddr of the fleet in one of them reaches a real mailbox.
import type { HostConfig, RuleProblem } from "../../src/inventory/catalog.ts";
import { mailOf, type Mail } from "./model.ts";
import type { MailSettings } from "./schema.ts";

/** Whether `address` is a user or an alias of `mail`. */
function known(mail: Mail, address: string): boolean {
  return mail.domains.some((d) => d.users.some((u) => u.address === address) || d.aliases.some((a) => a.address === address));
}

export function mailRules(settings: MailSettings | undefined, role: string): RuleProblem[] {
  const out: RuleProblem[] = [];
  const domains = settings?.domains ?? {};
  if (Object.keys(domains).length === 0) {
    out.push({ field: ["mail"], message: `role ${role} needs mail.domains: the domains this host serves, with their users (and aliases)` });
    return out;
  }
  const mail = mailOf(settings);
  for (const d of mail.domains) {
    const users = new Set(d.users.map((u) => u.name));
    for (const [name, targets] of Object.entries(domains[d.name]?.aliases ?? {})) {
      const field = ["mail", "domains", d.name, "aliases", name];
      if (users.has(name)) out.push({ field, message: `${name}@${d.name} is both a user and an alias; keep one of them` });
      for (const t of Array.isArray(targets) ? targets : [targets]) {
        const address = t.includes("@") ? t : `${t}@${d.name}`;
        const domain = address.slice(address.lastIndexOf("@") + 1);
        if (address === `${name}@${d.name}`) out.push({ field, message: `alias ${name}@${d.name} points at itself` });
        else if (mail.domains.some((x) => x.name === domain) && !known(mail, address)) {
          out.push({ field, message: `alias ${name}@${d.name} points at ${address}, which is no user or alias of ${domain}; add it or point elsewhere` });
        }
      }
    }
  }
  return out;
}

/** Every host's adminaddr that lies in a domain `hub` serves must be a user or an alias there; the problem is placed at that host's adminaddr. */
export function adminaddrRules(hub: HostConfig, fleet: readonly HostConfig[]): RuleProblem[] {
  const mail = mailOf(hub.mail as MailSettings | undefined);
  const out: RuleProblem[] = [];
  for (const h of fleet) {
    const a = h.adminaddr;
    if (!a) continue;
    const domain = a.slice(a.lastIndexOf("@") + 1).toLowerCase();
    const local = a.slice(0, a.lastIndexOf("@")).toLowerCase();
    if (!mail.domains.some((d) => d.name === domain) || known(mail, `${local}@${domain}`)) continue;
    out.push({
      host: h.name,
      field: ["adminaddr"],
      message: `adminaddr ${a} would be refused: hub ${hub.name} serves ${domain}, which has no user or alias '${local}'; add mail.domains.${domain}.aliases.${local} (e.g. pointing at a user) or a user ${local}`,
    });
  }
  return out;
}
