// What Postfix is called and where it lives on each platform (both Postfix roles).
import type { ManagedDirectory } from "../../../src/inventory/directories.ts";

export interface PostfixData {
  package: string;
  service: string;
  /** main.cf and the maps the role writes; every Postfix command gets -c (sendmail -C) with it. */
  configDir: string;
  postfix: string;
  postmap: string;
  postconf: string;
  postqueue: string;
  postcat: string;
  postsuper: string;
  sendmail: string;
  /** File holding the host's mail name; myorigin points at it. */
  mailname?: string;
  /** Default lookup table type (postconf default_database_type). */
  mapType: "hash" | "lmdb";
  /** debconf answer that leaves main.cf to mailfleet instead of asking (where the platform has debconf). */
  debconf?: string;
  /** queue_directory: relative unix socket names in main.cf (private/...) are relative to it. */
  queueDirectory: string;
  /** mail_owner: the user Postfix's daemons run as (owner of the sockets Dovecot opens for it). */
  mailOwner: string;
  mailOwnerGroup: string;
  /** The chroot column of master.cf: Debian runs its services chrooted in the queue directory, pkgsrc does not. */
  chroot: boolean;
}

/** The directories Postfix itself keeps (both Postfix roles manage them). */
export function postfixDirectories(pf: Pick<PostfixData, "configDir" | "queueDirectory">): ManagedDirectory[] {
  return [
    { path: pf.queueDirectory, what: "Postfix's queue directory" },
    { path: pf.configDir, what: "Postfix's configuration directory" },
  ];
}

export const postfixPlatforms = {
  smartos: {
    package: "postfix",
    service: "svc:/pkgsrc/postfix:default",
    configDir: "/opt/local/etc/postfix",
    postfix: "/opt/local/sbin/postfix",
    postmap: "/opt/local/sbin/postmap",
    postconf: "/opt/local/sbin/postconf",
    postqueue: "/opt/local/sbin/postqueue",
    postcat: "/opt/local/sbin/postcat",
    postsuper: "/opt/local/sbin/postsuper",
    sendmail: "/opt/local/sbin/sendmail",
    mapType: "hash",
    queueDirectory: "/var/spool/postfix",
    mailOwner: "postfix",
    mailOwnerGroup: "postfix",
    chroot: false,
  },
  debian: {
    package: "postfix",
    service: "postfix",
    configDir: "/etc/postfix",
    postfix: "/usr/sbin/postfix",
    postmap: "/usr/sbin/postmap",
    postconf: "/usr/sbin/postconf",
    postqueue: "/usr/sbin/postqueue",
    postcat: "/usr/sbin/postcat",
    postsuper: "/usr/sbin/postsuper",
    sendmail: "/usr/sbin/sendmail",
    mailname: "/etc/mailname",
    mapType: "hash",
    debconf: "postfix postfix/main_mailer_type select No configuration",
    queueDirectory: "/var/spool/postfix",
    mailOwner: "postfix",
    mailOwnerGroup: "postfix",
    chroot: true,
  },
  freebsd: {
    package: "postfix",
    service: "postfix",
    configDir: "/usr/local/etc/postfix",
    postfix: "/usr/local/sbin/postfix",
    postmap: "/usr/local/sbin/postmap",
    postconf: "/usr/local/sbin/postconf",
    postqueue: "/usr/local/sbin/postqueue",
    postcat: "/usr/local/sbin/postcat",
    postsuper: "/usr/local/sbin/postsuper",
    sendmail: "/usr/local/sbin/sendmail",
    mapType: "hash",
    queueDirectory: "/var/spool/postfix",
    mailOwner: "postfix",
    mailOwnerGroup: "postfix",
    chroot: false,
  },
} satisfies Record<string, PostfixData>;
