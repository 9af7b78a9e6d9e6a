// rspamd: the spam scanner in front of delivery, asked about every message
// during the SMTP session: by OpenSMTPD's filter-rspamd over HTTP, by Postfix
// as a milter (rspamd's proxy worker).
import { defineRole } from "../types.ts";
import { rspamdPlatforms } from "./platforms.ts";
import { DEFAULT_LISTEN, DEFAULT_MILTER, maskRedisConf, rspamdResources } from "./resources.ts";
import { rspamdRules } from "./rules.ts";
import { rspamdSections } from "./schema.ts";

export const rspamd = defineRole({
  name: "rspamd",
  summary: "rspamd scans mail in the SMTP session: its worker on loopback, actions and redis from the inventory",
  sections: rspamdSections,
  platforms: rspamdPlatforms,
  rules: rspamdRules,
  provides: ["scanner", "milter"],
  // the scanning worker: over HTTP at a loopback address, or a unix socket; and the proxy worker as a milter
  offers: (h) => {
    const listen = h.rspamd?.listen ?? DEFAULT_LISTEN;
    return {
      scanner: listen.startsWith("/") ? { socket: listen } : { url: `http://${listen}` },
      milter: { address: `inet:${h.rspamd?.milter ?? DEFAULT_MILTER}` },
    };
  },
  managedDirectories: (d) => [{ path: d.localConfDir, what: "rspamd's configuration directory" }],
  resources: rspamdResources,
  masks: { redis: maskRedisConf },
});
