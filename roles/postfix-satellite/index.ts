// postfix-satellite: a Postfix null client for Linux hosts. All local mail
// (cron, apt, systemd) goes to one relay, with SASL over TLS, and every
// address is rewritten so it reaches one mailbox and shows the sending host.
import { mtaResourceKinds } from "../lib/mta/kinds.ts";
import { defineRole } from "../types.ts";
import { maskSaslPasswd } from "./maps.ts";
import { postfixDirectories, postfixPlatforms } from "../lib/postfix/platforms.ts";
import { postfixQueue } from "../lib/postfix/queue.ts";
import { postfixSatelliteResources } from "./resources.ts";
import { postfixSatelliteRules } from "./rules.ts";
import { postfixSections } from "./schema.ts";

export const postfixSatellite = defineRole({
  name: "postfix-satellite",
  summary: "a Postfix null client: all local mail relayed to one relay, addresses rewritten to one mailbox",
  sections: postfixSections,
  settings: ["adminaddr", "relay"],
  platforms: postfixPlatforms,
  exclusive: "mta",
  rules: postfixSatelliteRules,
  managedDirectories: postfixDirectories,
  resources: postfixSatelliteResources,
  resourceKinds: mtaResourceKinds,
  masks: { sasl_passwd: maskSaslPasswd },
  queue: postfixQueue,
});
