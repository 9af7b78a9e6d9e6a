// Rules across fields for the dovecot role.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import { mailRules } from "../mail/rules.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import { lmtpClients, lmtpEndpoint } from "./lmtp.ts";
import type { dovecotSections } from "./schema.ts";

export function dovecotRules(h: RoleHost<typeof dovecotSections>, { fleet }: RuleContext<unknown>): RuleProblem[] {
  const out: RuleProblem[] = mailRules(h.mail, "dovecot");
  if (!h.dovecot?.tls) {
    out.push({ field: ["dovecot"], message: "role dovecot needs dovecot.tls (cert and key paths on the host): IMAP and POP3 take passwords only over TLS" });
  }
  const roles = h.roles;
  if (roles.includes("postfix-hub") && roles.indexOf("postfix-hub") > roles.indexOf("dovecot")) {
    out.push({ field: ["roles"], message: "list postfix-hub before dovecot: Dovecot opens its LMTP socket in Postfix's queue directory, which Postfix's package creates" });
  }
  const tcp = h.dovecot?.lmtp !== undefined || lmtpClients(h, fleet).length > 0;
  if (tcp && !lmtpEndpoint(h).address) {
    out.push({ field: ["dovecot", "lmtp"], message: "LMTP over TCP needs an address to listen on: set dovecot.lmtp.address or the host's address" });
  }
  return out;
}
