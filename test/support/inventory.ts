// Inventories the hub tests write: the YAML is built from plain values
// (YAML.stringify quotes what needs it and folds no line), then loaded as
// mailfleet loads it.
// The fragments that make a host of this machine a hub here (a Postfix
// instance's main.cf entries, the test's TLS files, the one unprivileged mail
// owner) come from hubFragments; the rest is what each test says.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import type { RunAs } from "./namespace.ts";

/** Writes `inventory` to `file` as YAML and returns its hosts, loaded as the command loads them. */
export function saveInventory(file: string, inventory: Record<string, unknown>): HostConfig[] {
  writeFileSync(file, YAML.stringify(inventory, { lineWidth: 0 }));
  return parseInventory(readFileSync(file, "utf8"), file).hosts;
}

/** What makes a hub host of this machine's daemons: its instance's main.cf entries, TLS files, mail owner and mail base. */
export interface HubFragments {
  /** Entries for `hub.mainCf` that make Postfix an instance of the unpacked package. */
  instance: Record<string, string>;
  /** `{ cert, key }` for `hub.tls` and `dovecot.tls`: the self-signed pair under `data`/tls. */
  tls: { cert: string; key: string };
  /** `mail.owner`: the user Dovecot runs as here. */
  owner: { user: string; group: string; uid: number; gid: number };
  /** `mail.base`: `data`/vmail. */
  base: string;
}

/** The fragments for a Postfix instance's `settings` and a Dovecot temp dir `data` (dovecotRoleDir) whose user is `u`. */
export function hubFragments(settings: Record<string, string>, data: string, u: RunAs): HubFragments {
  return {
    instance: { ...settings },
    tls: { cert: `${data}/tls/cert.pem`, key: `${data}/tls/key.pem` },
    owner: { user: u.user, group: u.group, uid: u.uid, gid: u.gid },
    base: `${data}/vmail`,
  };
}

/** A host with both hub roles (postfix-hub, dovecot) on Debian. */
export function hubHost(o: { address: string; hub: Record<string, unknown>; dovecot: Record<string, unknown>; mail: Record<string, unknown> }): Record<string, unknown> {
  return { platform: "debian", roles: ["postfix-hub", "dovecot"], ...o };
}

export interface MailDomain {
  /** Local parts; each one's password is read from `secretDir`/<local>@<domain>. */
  users: string[];
  aliases?: Record<string, string | string[]>;
}

/** `mail.domains`: each user's password a secret file named by its address under `secretDir`. */
export function mailDomains(secretDir: string, domains: Record<string, MailDomain>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(domains).map(([domain, d]) => [
      domain,
      {
        users: Object.fromEntries(d.users.map((u) => [u, { password: { file: path.join(secretDir, `${u}@${domain}`) } }])),
        ...(d.aliases ? { aliases: d.aliases } : {}),
      },
    ]),
  );
}
