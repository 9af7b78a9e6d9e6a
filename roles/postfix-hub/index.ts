// postfix-hub: the fleet's receiving MTA. Relays for the inventory's hosts
// only (mynetworks computed from the fleet), accepts mail for the virtual
// domains of `mail:`, refuses unknown recipients at RCPT, and delivers to
// Dovecot over LMTP (a unix socket on the same host, TCP to a store host).
import { postfixDirectories } from "../lib/postfix/platforms.ts";
import { postfixQueue } from "../lib/postfix/queue.ts";
import { defineRole } from "../types.ts";
import { postfixHubPlatforms } from "./platforms.ts";
import { postfixHubResources } from "./resources.ts";
import { postfixHubRules } from "./rules.ts";
import { hubSections } from "./schema.ts";

export const postfixHub = defineRole({
  name: "postfix-hub",
  summary: "the fleet's hub: Postfix relaying for the inventory's hosts only, virtual domains delivered to Dovecot over LMTP",
  sections: hubSections,
  platforms: postfixHubPlatforms,
  exclusive: "mta",
  rules: postfixHubRules,
  managedDirectories: postfixDirectories,
  resources: postfixHubResources,
  queue: postfixQueue,
});
