// What rspamd is called and where it lives on each platform.

export interface RspamdData {
  package: string;
  service: string;
  /** The stock rspamd.conf (CONFDIR). */
  confDir: string;
  /** Where local.d/ and override.d/ are (LOCAL_CONFDIR); the role writes local.d/. */
  localConfDir: string;
  rspamadm: string;
  /** The group rspamd's workers run as: a file holding a secret is readable to it. */
  group: string;
  /** Where the DKIM keys generated on the host are kept. */
  dkimDir: string;
}

export const rspamdPlatforms = {
  debian: {
    package: "rspamd",
    service: "rspamd",
    confDir: "/etc/rspamd",
    localConfDir: "/etc/rspamd",
    rspamadm: "/usr/bin/rspamadm",
    group: "_rspamd",
    dkimDir: "/var/lib/rspamd/dkim",
  },
  smartos: {
    package: "rspamd",
    service: "svc:/pkgsrc/rspamd:default",
    confDir: "/opt/local/etc/rspamd",
    localConfDir: "/opt/local/etc/rspamd",
    rspamadm: "/opt/local/bin/rspamadm",
    group: "rspamd",
    dkimDir: "/var/db/rspamd/dkim",
  },
  freebsd: {
    package: "rspamd",
    service: "rspamd",
    confDir: "/usr/local/etc/rspamd",
    localConfDir: "/usr/local/etc/rspamd",
    rspamadm: "/usr/local/bin/rspamadm",
    group: "rspamd",
    dkimDir: "/var/db/rspamd/dkim",
  },
} satisfies Record<string, RspamdData>;
