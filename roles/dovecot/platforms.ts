// What Dovecot (2.3) is called and where it lives on each platform.
import { postfixSockets, type PostfixSockets } from "../mail/sockets.ts";
import { postfixPlatforms } from "../postfix/platforms.ts";

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
  /** The sockets a Postfix on the same host connects to. */
  postfix: PostfixSockets;
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
    postfix: postfixSockets(postfixPlatforms.smartos),
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
    postfix: postfixSockets(postfixPlatforms.debian),
  },
} satisfies Record<string, DovecotData>;
