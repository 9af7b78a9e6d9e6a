/** What differs between operating systems: data plus tiny shell adapters. */
export interface Platform {
  name: "smartos" | "debian";
  /** Prints `installed <version>` or `absent`. */
  packageProbe(pkg: string): string;
  packageInstall(pkg: string): string;
  packageRemove(pkg: string): string;
  /** Prints `running` or `stopped`. */
  serviceProbe(svc: string): string;
  serviceStart(svc: string): string;
  serviceStop(svc: string): string;
  serviceRestart(svc: string): string;
  serviceReload(svc: string): string;
  /** Strips packaging decoration from a version (epochs, revisions, nbN). */
  upstreamVersion(v: string): string;
  nullmailer: {
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
  };
  /** Debian: preseeds debconf answers (debconf-set-selections lines) before a package install. */
  packagePreseed?(selections: string): string;
  /** Installing one MTA package removes the other (Debian: both provide mail-transport-agent). */
  mtaPackagesConflict: boolean;
  postfix: {
    package: string;
    service: string;
    /** main.cf and the maps the satellite role writes; every Postfix command gets -c (sendmail -C) with it. */
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
  };
  /** ZFS datasets (SmartOS): prints `present <mountpoint>` or `absent`. */
  zfsProbe?(dataset: string): string;
  zfsCreate?(dataset: string, mountpoint: string): string;
}
