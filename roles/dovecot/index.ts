// dovecot: the mail store. Users of `mail:` from a passwd-file keyed by
// user@domain (passwords as BLF-CRYPT hashes), a Maildir each, IMAP and POP3
// over TLS, LMTP for the MTA that delivers (a unix socket for Postfix on the
// same host, TCP for one on another host). Mailboxes are never deleted.
import path from "node:path";
import { MAIL_DEFAULTS, mailOf } from "../lib/mail/model.ts";
import { defineRole } from "../types.ts";
import { mailStoreMoveHandler } from "./store-move.ts";
import { lmtpEndpoint } from "./lmtp.ts";
import { dovecotPlatforms, type DovecotData } from "./platforms.ts";
import { dovecotResources, maskPasswdFile } from "./resources.ts";
import { dovecotRules } from "./rules.ts";
import { dovecotSections } from "./schema.ts";

export const dovecot = defineRole({
  name: "dovecot",
  summary: "Dovecot: virtual users in a passwd-file, Maildir, IMAP and POP3 over TLS, LMTP for the hub",
  sections: dovecotSections,
  platforms: dovecotPlatforms,
  rules: dovecotRules,
  provides: ["mailStore", "saslServer"],
  offers: (h) => ({ mailStore: { lmtp: lmtpEndpoint(h) }, saslServer: { protocol: "dovecot" } }),
  // it opens the sockets the MTA on this host asks for, in directories that MTA's package creates: that role comes first
  uses: ["lmtpDelivery", "saslClient"],
  managedDirectories: (dv: DovecotData) => [{ path: path.posix.dirname(dv.config), what: "Dovecot's configuration directory" }],
  directorySettings: (h) => [{ field: ["mail", "base"], path: mailOf(h.mail).base, what: "the mail store", example: MAIL_DEFAULTS.base }],
  resources: dovecotResources,
  resourceKinds: { mailStoreMove: mailStoreMoveHandler },
  masks: { "passwd-file": maskPasswdFile },
});
