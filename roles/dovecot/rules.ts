// Rules across fields for the dovecot role.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import { mailRules } from "../lib/mail/rules.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import { lmtpClients, lmtpEndpoint } from "./lmtp.ts";
import type { DovecotData } from "./platforms.ts";
import type { dovecotSections } from "./schema.ts";

export function dovecotRules(h: RoleHost<typeof dovecotSections>, { data, links }: RuleContext<DovecotData>): RuleProblem[] {
  const out: RuleProblem[] = mailRules(h.mail, "dovecot");
  // The login limits run in Dovecot's Lua passdb: where there is none, the inventory says so itself.
  if ("missing" in data.lua && h.dovecot?.authLimits !== false) {
    out.push({
      field: h.dovecot?.authLimits ? ["dovecot", "authLimits"] : ["dovecot"],
      message: `dovecot.authLimits (bounds on password guessing per client and per account) needs Dovecot's Lua passdb, which ${h.platform} does not have: ${data.lua.missing}; write authLimits: false to run without them (Dovecot's per-address auth penalty is then the only brake on guessing)`,
    });
  }
  if (!h.dovecot?.tls) {
    out.push({ field: ["dovecot"], message: "role dovecot needs dovecot.tls (cert and key paths on the host): IMAP and POP3 take passwords only over TLS" });
  }
  const clients = lmtpClients(h, links);
  const tcp = h.dovecot?.lmtp !== undefined || clients.length > 0;
  if (tcp && !lmtpEndpoint(h).address) {
    out.push({ field: ["dovecot", "lmtp"], message: "LMTP over TCP needs an address to listen on: set dovecot.lmtp.address or the host's address" });
  }
  if (h.dovecot?.lmtp && clients.length === 0) {
    out.push({
      field: ["dovecot", "lmtp"],
      message: "dovecot.lmtp opens LMTP over TCP, but no MTA may deliver there: no host of the inventory delivers here (names this one as its store) and dovecot.lmtp.clients is empty; list the MTAs' addresses there, or leave dovecot.lmtp out",
    });
  }
  // Only listed clients may deliver, so each one's address must be known.
  for (const c of clients) {
    if (c.address) continue;
    out.push({
      host: c.host,
      field: ["address"],
      message: `${c.host} delivers to ${h.name} over LMTP/TCP, which takes mail only from the addresses of the MTAs that deliver there, but ${c.host}'s address is unknown; set address: to the IP it connects from`,
    });
  }
  return out;
}
