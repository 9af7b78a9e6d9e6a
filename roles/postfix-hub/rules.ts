// Rules across fields and hosts for the postfix-hub role; each names the
// field (and the host) it is about.
import { mainCfProblems } from "../lib/postfix/main-cf.ts";
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import { lmtpEndpoint, storeName } from "../dovecot/lmtp.ts";
import { relayClients } from "../lib/mail/fleet.ts";
import { adminaddrRules, mailRules, sameMailboxesRule } from "../lib/mail/rules.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import { HUB_MANAGED_PARAMETERS, type hubSections } from "./schema.ts";

type HubHost = RoleHost<typeof hubSections>;

export function postfixHubRules(h: HubHost, { fleet }: RuleContext<unknown>): RuleProblem[] {
  const out: RuleProblem[] = [];
  const hub = h.hub ?? {};
  if (!h.adminaddr) out.push({ message: "role postfix-hub needs adminaddr: where the hub's own root and postmaster mail goes" });
  out.push(...mailRules(h.mail, "postfix-hub"), ...adminaddrRules(h, fleet));

  // Relay for the fleet only: every satellite is let in by its address, so that address must be known.
  for (const c of relayClients(h, fleet)) {
    if (c.address) continue;
    out.push({
      host: c.host,
      field: ["address"],
      message: `host ${c.host} relays through hub ${h.name}, which lets satellites relay by their address, but ${c.host}'s address is unknown (its transport is not ssh to an IP address); set address: to the IP it sends mail from`,
    });
  }

  const store = storeName(h)!;
  const storeHost = fleet.find((x) => x.name === store);
  if (store === h.name) {
    if (!h.roles.includes("dovecot")) {
      out.push({ field: ["roles"], message: "role postfix-hub delivers to Dovecot over LMTP: give this host role dovecot too, or name the host that has it in hub.store" });
    }
  } else if (!storeHost) {
    out.push({ field: ["hub", "store"], message: `hub.store names ${store}, which is no host of this inventory` });
  } else if (!storeHost.roles.includes("dovecot")) {
    out.push({ field: ["hub", "store"], message: `hub.store names ${store}, which does not have role dovecot` });
  } else {
    if (!lmtpEndpoint(storeHost).address) {
      out.push({ host: store, field: ["address"], message: `${store} stores the mail of hub ${h.name} over LMTP/TCP, but its address is unknown; set address: (or dovecot.lmtp.address)` });
    }
    out.push(...sameMailboxesRule(h, storeHost));
  }

  if (hub.submission) {
    if (!hub.tls) out.push({ field: ["hub", "submission"], message: "hub.submission takes passwords: set hub.tls (cert and key) as well" });
    if (store !== h.name) out.push({ field: ["hub", "submission"], message: "hub.submission authenticates through Dovecot on this host; it needs role dovecot here (not hub.store)" });
    if ((hub.submission.port ?? 587) === (hub.port ?? 25)) out.push({ field: ["hub", "submission", "port"], message: "hub.submission.port must differ from hub.port" });
  }
  for (const key of Object.keys(hub.mainCf ?? {})) {
    if ((HUB_MANAGED_PARAMETERS as readonly string[]).includes(key)) {
      out.push({ field: ["hub", "mainCf", key], message: `hub.mainCf.${key} is written by the role itself; use the role's settings (hub.*, mail.*) instead` });
    }
  }
  out.push(...mainCfProblems(hub.mainCf, HUB_MANAGED_PARAMETERS, ["hub", "mainCf"]));
  return out;
}
