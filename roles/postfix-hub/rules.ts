// Rules across fields and hosts for the postfix-hub role; each names the
// field (and the host) it is about.
import { mainCfProblems } from "../lib/postfix/main-cf.ts";
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import { relayClients } from "../lib/mail/fleet.ts";
import { adminaddrRules, mailRules, storeRules } from "../lib/mail/rules.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import { storeOf } from "./resources.ts";
import { HUB_MANAGED_PARAMETERS, type hubSections } from "./schema.ts";

type HubHost = RoleHost<typeof hubSections>;

export function postfixHubRules(h: HubHost, { fleet, links }: RuleContext<unknown>): RuleProblem[] {
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

  const store = storeOf(h);
  if (store === h.name) {
    if (!links.of().mailStore) {
      out.push({ field: ["roles"], message: `role postfix-hub delivers to a mail store over LMTP: give this host a role that offers one too (${links.providers("mailStore").join(", ")}), or name the host that has one in hub.store` });
    }
  } else out.push(...storeRules(h, store, ["hub", "store"], { fleet, links }));

  if (hub.submission) {
    if (!hub.tls) out.push({ field: ["hub", "submission"], message: "hub.submission takes passwords: set hub.tls (cert and key) as well" });
    if (!links.of().saslServer) {
      out.push({ field: ["hub", "submission"], message: `hub.submission has a SASL server on this host check the passwords: give this host a role that offers one (${links.providers("saslServer").join(", ")})` });
    }
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
