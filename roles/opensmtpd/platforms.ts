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
  /**
   * The awk that runs the guard filter (templates/guard.awk), with the flags
   * that make it answer each line as it comes: a filter that waits for more
   * input before it answers stalls every SMTP session.
   */
  awk: string[];
  /** The package that brings it, where it is not part of the base system. */
  awkPackage?: string;
  /**
   * The longest body line the platform's filter path carries intact to
   * filter-rspamd and back; a message with a longer one is refused at the end
   * of DATA by the guard (docs/scanning.md, security).
   */
  filterLineMax: number;
  /** A drop-in for the service's systemd unit that restarts smtpd whenever it exits by itself; absent where nothing supervises it. */
  restartDropIn?: string;
  /**
   * Why an OpenSMTPD listening beyond loopback is exposed to SMTP smuggling
   * here (it ends DATA at a bare LF dot and has no setting to refuse bare
   * LF); undefined where it is not.
   */
  smuggling?: string;
}

/** OpenSMTPD 6.8 and 7.x alike (smtp_session.c and iobuf.c unchanged up to 7.8.0p1), measured on 6.8.0p2 by test/e2e/scan-exposed.test.ts. */
const SMUGGLING =
  "takes a bare LF for a line end and a dot after one (\\n.\\n, \\n.\\r\\n, \\r\\n.\\n) for the end of DATA, with no setting to refuse bare LF: a message smuggled behind such a dot is refused only when its commands arrive with the dot (smtpd refuses pipelining), not when they arrive one by one (SMTP smuggling, CVE-2023-51764)";

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
    // Debian's /usr/bin/awk is mawk unless gawk is installed; mawk reads a pipe or socket until its buffer is full unless -W interactive
    awk: ["/usr/bin/mawk", "-W", "interactive"],
    awkPackage: "mawk",
    // 6.8 copies each filter's answer into a LINE_MAX (2048) buffer (lka_filter.c, fixed in 7.4): 2047 bytes less "filter-dataline|<id>|<token>|"
    filterLineMax: 1997,
    restartDropIn: "/etc/systemd/system/opensmtpd.service.d/mailfleet-restart.conf",
    smuggling: `Debian 12's OpenSMTPD 6.8.0p2 ${SMUGGLING}`,
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
    // the base system's awk (the one true awk) reads with stdio: it answers each line as it arrives
    awk: ["/usr/bin/awk"],
    // filter-rspamd reads with Go's bufio.Scanner, whose lines end at 64 KiB (65536 bytes less the request's prefix): a longer one makes it exit, and smtpd with it
    filterLineMax: 65000,
    // the port's rc.d script starts smtpd and nothing restarts it (docs/scanning.md, security)
    smuggling: `the ports' OpenSMTPD 7.x ${SMUGGLING}`,
  },
};
