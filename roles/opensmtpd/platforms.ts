// What OpenSMTPD (with filter-rspamd) is called and where it lives on each platform.

export interface OpensmtpdData {
  package: string;
  /** filter-rspamd, installed when the role scans (opensmtpd.filter: rspamd). */
  filterPackage: string;
  service: string;
  /** smtpd.conf: the whole configuration, written by mailfleet. */
  config: string;
  /** Where the role's tables (domains, recipients, virtual, relay-clients, local-aliases) live. */
  tableDir: string;
  smtpd: string;
  smtpctl: string;
  /** How other programs hand it mail (parked mail after a switch from another MTA goes in here). */
  sendmail: string;
  filterRspamd: string;
  /** The queue: queue/<bucket>/<msgid>/{message,<evpid>...}, offline/ for mail submitted while smtpd was down. */
  spool: string;
  /** The file smtpd takes its name from, where the package reads one (Debian: /etc/mailname). */
  mailname?: string;
  /** debconf question the package asks for its mail name (answered with the host's fqdn). */
  debconfMailname?: string;
  /** mailwrapper's table, where the platform has one: sendmail and friends point at smtpctl. */
  mailerConf?: string;
  makemap?: string;
  /** Home of the mail owner when the role creates it here: an empty directory the package or OS provides (no mail is kept here). */
  deliveryHome: string;
  /** Whether the platform's OpenSMTPD can do TLS as a server; the reason where it cannot. */
  starttls: true | { broken: string };
}

export const opensmtpdPlatforms: Record<"debian" | "freebsd", OpensmtpdData> = {
  debian: {
    package: "opensmtpd",
    filterPackage: "opensmtpd-filter-rspamd",
    service: "opensmtpd",
    config: "/etc/smtpd.conf",
    tableDir: "/etc/smtpd",
    smtpd: "/usr/sbin/smtpd",
    smtpctl: "/usr/sbin/smtpctl",
    sendmail: "/usr/sbin/sendmail",
    filterRspamd: "/usr/libexec/opensmtpd/filter-rspamd",
    spool: "/var/spool/smtpd",
    mailname: "/etc/mailname",
    debconfMailname: "opensmtpd opensmtpd/mailname string",
    deliveryHome: "/var/lib/opensmtpd/empty",
    // measured (test/e2e/scan-delivery.test.ts): every STARTTLS handshake fails
    starttls: {
      broken:
        "Debian 12's OpenSMTPD 6.8.0p2 with OpenSSL 3 fails every STARTTLS handshake ('rsa routines::missing private key', 'elliptic curve routines::missing private key': its privilege-separated key engine does not work with OpenSSL 3; OpenSMTPD issues #1171 and #1239, fixed in 7.x), so offering it would only make senders' TLS fail",
    },
  },
  // the mail/opensmtpd and mail/opensmtpd-filter-rspamd ports (OpenSMTPD 7): users _smtpd and _smtpq
  freebsd: {
    package: "opensmtpd",
    filterPackage: "opensmtpd-filter-rspamd",
    service: "smtpd",
    config: "/usr/local/etc/mail/smtpd.conf",
    tableDir: "/usr/local/etc/mail/smtpd",
    smtpd: "/usr/local/sbin/smtpd",
    smtpctl: "/usr/local/sbin/smtpctl",
    // mailwrapper, pointed at smtpctl by mailer.conf
    sendmail: "/usr/sbin/sendmail",
    filterRspamd: "/usr/local/libexec/opensmtpd/filter-rspamd",
    spool: "/var/spool/smtpd",
    mailerConf: "/etc/mail/mailer.conf",
    makemap: "/usr/local/libexec/opensmtpd/makemap",
    deliveryHome: "/var/empty",
    starttls: true,
  },
};
