// The `mail:` section resolved into what the roles render: defaults filled
// in, every address spelt out, sorted so the files do not change when the
// inventory is merely reordered.
import type { SecretRef } from "../../../src/inventory/fields.ts";
import type { MailSettings } from "./schema.ts";

export interface MailUser {
  domain: string;
  name: string;
  /** user@domain: the login name and the key of every table. */
  address: string;
  /** The password, hashed by mailfleet; or, where the inventory gives the hash itself, passwordHash. */
  password?: SecretRef;
  passwordHash?: string | SecretRef;
  quota?: string;
  /** The user's home (Dovecot's), holding Maildir/: <base>/<domain>/<user>. */
  home: string;
}

export interface MailAlias {
  address: string;
  /** Full addresses, in the inventory's order. */
  targets: string[];
  /** Set when the role adds the alias itself (roles/lib/mail/required.ts): why. */
  added?: string;
}

export interface MailDomain {
  name: string;
  users: MailUser[];
  aliases: MailAlias[];
}

export interface Mail {
  owner: { user: string; group: string; uid: number; gid: number };
  base: string;
  domains: MailDomain[];
  users: MailUser[];
}

export const MAIL_DEFAULTS = { user: "vmail", group: "vmail", uid: 5000, gid: 5000, base: "/var/vmail" } as const;

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function mailOf(settings: MailSettings | undefined): Mail {
  const s = settings ?? {};
  const base = s.base ?? MAIL_DEFAULTS.base;
  const domains: MailDomain[] = Object.entries(s.domains ?? {})
    .map(([name, d]) => ({
      name,
      users: Object.entries(d.users ?? {})
        .map(([user, u]) => ({ domain: name, name: user, address: `${user}@${name}`, password: u.password, passwordHash: u.passwordHash, quota: u.quota, home: `${base}/${name}/${user}` }))
        .sort(byName),
      aliases: Object.entries(d.aliases ?? {})
        .map(([alias, t]) => ({ name: alias, address: `${alias}@${name}`, targets: (Array.isArray(t) ? t : [t]).map((x) => (x.includes("@") ? x : `${x}@${name}`)) }))
        .sort(byName)
        .map(({ address, targets }) => ({ address, targets })),
    }))
    .sort(byName);
  return {
    owner: {
      user: s.owner?.user ?? MAIL_DEFAULTS.user,
      group: s.owner?.group ?? MAIL_DEFAULTS.group,
      uid: s.owner?.uid ?? MAIL_DEFAULTS.uid,
      gid: s.owner?.gid ?? MAIL_DEFAULTS.gid,
    },
    base,
    domains,
    users: domains.flatMap((d) => d.users),
  };
}
