// postfix-hub: the fleet's receiving MTA. Relays for the inventory's hosts
// only (mynetworks computed from the fleet), accepts mail for the virtual
// domains of `mail:`, refuses unknown recipients at RCPT, and delivers to
// Dovecot over LMTP (a unix socket on the same host, TCP to a store host).
import { postfixDirectories } from "../lib/postfix/platforms.ts";
import { postfixQueue } from "../lib/postfix/queue.ts";
import { sendingAddress } from "../lib/mail/fleet.ts";
import { mtaResourceKinds } from "../lib/mta/kinds.ts";
import { defineRole } from "../types.ts";
import { postfixHubPlatforms, type PostfixHubData } from "./platforms.ts";
import { postfixHubResources, storeOf } from "./resources.ts";
import { postfixHubRules } from "./rules.ts";
import { hubSections } from "./schema.ts";

export const postfixHub = defineRole({
  name: "postfix-hub",
  summary: "the fleet's hub: Postfix relaying for the inventory's hosts only, virtual domains delivered to Dovecot over LMTP",
  sections: hubSections,
  settings: ["adminaddr"],
  platforms: postfixHubPlatforms,
  exclusive: "mta",
  rules: postfixHubRules,
  provides: ["lmtpDelivery", "saslClient"],
  // a milter on this host (rspamd) scans every message in the SMTP session: it is set up first
  uses: ["milter"],
  offers: (h, pf: PostfixHubData) => {
    const store = storeOf(h);
    const socket = (p: string) => ({ path: p, user: pf.sockets.user, group: pf.sockets.group });
    return {
      // on this host over the socket in Postfix's queue directory; to another over TCP, from the hub's address (lmtp_bind_address)
      lmtpDelivery: store === h.name ? { store, socket: socket(pf.sockets.lmtp) } : { store, from: sendingAddress(h) },
      ...(h.hub?.submission ? { saslClient: { socket: socket(pf.sockets.auth) } } : {}),
    };
  },
  managedDirectories: postfixDirectories,
  resources: postfixHubResources,
  resourceKinds: mtaResourceKinds,
  queue: postfixQueue,
});
