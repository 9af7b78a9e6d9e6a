// What nullmailer is called and where it lives on each platform.

export interface NullmailerData {
  package: string;
  service: string;
  confDir: string;
  spool: string;
  user: string;
  group: string;
  /** File holding the host's name: nullmailer's `me`, or /etc/mailname where the build reads that. */
  meFile: string;
  inject: string;
  sendmail: string;
  mailq: string;
  /** /etc/mailer.conf where the platform has mailwrapper. */
  mailerConf?: string;
  /** Spool directory mode (queue, tmp, failed). */
  spoolMode: number;
  spoolGroup: string;
  triggerMode: number;
}

const PKGSRC_LIBEXEC = "/opt/local/libexec/nullmailer";

export const nullmailerPlatforms = {
  smartos: {
    package: "nullmailer",
    service: "svc:/pkgsrc/nullmailer:default",
    confDir: "/opt/local/etc/nullmailer",
    spool: "/var/spool/nullmailer",
    user: "nullmail",
    group: "nullmail",
    meFile: "/opt/local/etc/nullmailer/me",
    inject: `${PKGSRC_LIBEXEC}/nullmailer-inject`,
    sendmail: `${PKGSRC_LIBEXEC}/sendmail`,
    mailq: `${PKGSRC_LIBEXEC}/mailq`,
    mailerConf: "/etc/mailer.conf",
    spoolMode: 0o700,
    spoolGroup: "nullmail",
    triggerMode: 0o600,
  },
  debian: {
    package: "nullmailer",
    service: "nullmailer",
    confDir: "/etc/nullmailer",
    spool: "/var/spool/nullmailer",
    user: "mail",
    group: "mail",
    // Debian's nullmailer ignores `me` and reads /etc/mailname.
    meFile: "/etc/mailname",
    inject: "/usr/bin/nullmailer-inject",
    sendmail: "/usr/sbin/sendmail",
    mailq: "/usr/bin/mailq",
    spoolMode: 0o750,
    spoolGroup: "root",
    triggerMode: 0o622,
  },
  freebsd: {
    package: "nullmailer",
    service: "nullmailer",
    confDir: "/usr/local/etc/nullmailer",
    spool: "/var/spool/nullmailer",
    user: "nullmail",
    group: "nullmail",
    meFile: "/usr/local/etc/nullmailer/me",
    inject: "/usr/local/bin/nullmailer-inject",
    sendmail: "/usr/local/sbin/sendmail",
    mailq: "/usr/local/bin/mailq",
    mailerConf: "/etc/mail/mailer.conf",
    spoolMode: 0o700,
    spoolGroup: "nullmail",
    triggerMode: 0o600,
  },
} satisfies Record<string, NullmailerData>;
