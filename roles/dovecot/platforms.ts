// What Dovecot (2.3) is called and where it lives on each platform.

export interface DovecotData {
  packages: string[];
  service: string;
  /** dovecot.conf: the whole configuration, written by mailfleet (the package's conf.d is not included). */
  config: string;
  /** The passwd-file of the mail users (user@domain:hash:uid:gid::home::extra). */
  passwdFile: string;
  doveconf: string;
  /** default_internal_user/_group: auth reads the passwd-file as this user (the file is 0640 root:<group>). */
  user: string;
  group: string;
  /** default_login_user: the unprivileged imap-login and pop3-login processes. */
  loginUser: string;
  /**
   * Dovecot's Lua passdb, which the login limits (dovecot.authLimits) run in: the packages that
   * bring it, or why the platform's Dovecot has none.
   */
  lua: { packages: string[] } | { missing: string };
}

export const dovecotPlatforms = {
  smartos: {
    packages: ["dovecot"],
    service: "svc:/pkgsrc/dovecot:default",
    config: "/opt/local/etc/dovecot/dovecot.conf",
    passwdFile: "/opt/local/etc/dovecot/users",
    doveconf: "/opt/local/bin/doveconf",
    user: "dovecot",
    group: "dovecot",
    loginUser: "dovenull",
    lua: { missing: "pkgsrc's dovecot (mail/dovecot2) is built without Lua and has no option for it" },
  },
  debian: {
    packages: ["dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"],
    service: "dovecot",
    config: "/etc/dovecot/dovecot.conf",
    passwdFile: "/etc/dovecot/users",
    doveconf: "/usr/bin/doveconf",
    user: "dovecot",
    group: "dovecot",
    loginUser: "dovenull",
    // the auth module; libdovecot-lua (dovecot-core) links liblua5.4-0, a dependency of dovecot-core
    lua: { packages: ["dovecot-auth-lua"] },
  },
  // the mail/dovecot port: its users dovecot and dovenull, everything under /usr/local
  freebsd: {
    packages: ["dovecot"],
    service: "dovecot",
    config: "/usr/local/etc/dovecot/dovecot.conf",
    passwdFile: "/usr/local/etc/dovecot/users",
    doveconf: "/usr/local/bin/doveconf",
    user: "dovecot",
    group: "dovecot",
    loginUser: "dovenull",
    lua: { missing: "FreeBSD's dovecot package is built without the port's LUA option (mail/dovecot: OPTIONS_DEFAULT has no LUA)" },
  },
} satisfies Record<string, DovecotData>;
