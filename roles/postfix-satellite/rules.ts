// Rules across fields for the postfix-satellite role; each message says what to change.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import type { RoleHost } from "../types.ts";
import { mainCfProblems } from "../lib/postfix/main-cf.ts";
import { ENCRYPTED_TLS_LEVELS, MANAGED_PARAMETERS, type postfixSections } from "./schema.ts";

export function postfixSatelliteRules(h: RoleHost<typeof postfixSections>): RuleProblem[] {
  const out: string[] = [];
  const pf = h.postfix ?? {};
  const relay = h.relay;
  if (!relay?.host) out.push("role postfix-satellite needs relay.host (set it in defaults, the group or the host)");
  if (relay?.protocol === "qmqp") out.push("role postfix-satellite relays over SMTP only; remove relay.protocol: qmqp");
  const sendsPassword = relay?.auth !== undefined || Object.keys(pf.senderAuth ?? {}).length > 0;
  if (sendsPassword && relay?.tls === "none") {
    out.push("relay.auth sends a password: relay.tls must be starttls or tls, not none");
  }
  if (sendsPassword && pf.tlsLevel && !ENCRYPTED_TLS_LEVELS.includes(pf.tlsLevel)) {
    out.push(`relay.auth sends a password: postfix.tlsLevel must be ${ENCRYPTED_TLS_LEVELS.join(", ")}, not ${pf.tlsLevel}`);
  }
  if (relay?.insecure && (pf.tlsLevel === "verify" || pf.tlsLevel === "secure")) {
    out.push(`relay.insecure contradicts postfix.tlsLevel: ${pf.tlsLevel}; drop one of them`);
  }
  if (relay?.tls && relay.tls !== "none" && (pf.tlsLevel === "none" || pf.tlsLevel === "may")) {
    out.push(`relay.tls: ${relay.tls} needs postfix.tlsLevel encrypt, verify or secure, not ${pf.tlsLevel}`);
  }
  for (const [what, user] of [["relay.auth.user", relay?.auth?.user], ...Object.entries(pf.senderAuth ?? {}).map(([s, a]) => [`postfix.senderAuth.${s}.user`, a.user])]) {
    if (user !== undefined && /[\s:]/.test(user)) out.push(`${what}: a user name in sasl_passwd cannot hold ':' or whitespace`);
  }
  for (const key of Object.keys(pf.mainCf ?? {})) {
    if ((MANAGED_PARAMETERS as readonly string[]).includes(key)) {
      out.push(`postfix.mainCf.${key} is written by the role itself; use the role's setting for it (relay, postfix.*) instead`);
    }
  }
  // A value Postfix would refuse (or warn about) is refused here, where its line is known, not at the host's reload.
  return [...out.map((message) => ({ message })), ...mainCfProblems(pf.mainCf, MANAGED_PARAMETERS, ["postfix", "mainCf"])];
}
