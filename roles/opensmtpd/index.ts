// opensmtpd: the scan host's MTA. Takes mail for the virtual domains of
// `mail:`, has rspamd scan it during the SMTP session (filter-rspamd),
// refuses unknown recipients at RCPT, delivers over LMTP to Dovecot on the
// store host (one LMTP transaction per recipient), and relays outbound for
// the fleet's computed networks only.
import { sendingAddress } from "../lib/mail/fleet.ts";
import { mtaResourceKinds } from "../lib/mta/kinds.ts";
import { defineRole } from "../types.ts";
import { opensmtpdPlatforms } from "./platforms.ts";
import { opensmtpdQueue } from "./queue.ts";
import { opensmtpdResources } from "./resources.ts";
import { opensmtpdRules } from "./rules.ts";
import { opensmtpdSections } from "./schema.ts";

export const opensmtpd = defineRole({
  name: "opensmtpd",
  summary: "the scan host: OpenSMTPD scanning with rspamd in the SMTP session, delivering over LMTP to Dovecot on the store host",
  sections: opensmtpdSections,
  settings: ["adminaddr", "relay"],
  platforms: opensmtpdPlatforms,
  exclusive: "mta",
  rules: opensmtpdRules,
  provides: ["lmtpDelivery"],
  // every recipient goes to the store over LMTP/TCP, from the host's address (OpenSMTPD cannot pick another)
  offers: (h) => (h.opensmtpd?.store ? { lmtpDelivery: { store: h.opensmtpd.store, from: sendingAddress(h) } } : {}),
  managedDirectories: (os) => [
    { path: os.spool, what: "OpenSMTPD's queue" },
    { path: os.tableDir, what: "the table directory" },
  ],
  resources: opensmtpdResources,
  resourceKinds: mtaResourceKinds,
  queue: opensmtpdQueue,
});
