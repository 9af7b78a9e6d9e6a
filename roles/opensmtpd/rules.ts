// Rules across fields and hosts for the opensmtpd role; each names the field
// (and the host) it is about.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import { namesOf, relayClients } from "../lib/mail/fleet.ts";
import { adminaddrRules, mailRules, storeRules } from "../lib/mail/rules.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import type { OpensmtpdData } from "./platforms.ts";
import { listenAddresses, rspamdUrl } from "./resources.ts";
import type { opensmtpdSections } from "./schema.ts";

export function opensmtpdRules(h: RoleHost<typeof opensmtpdSections>, { data, fleet, links }: RuleContext<OpensmtpdData>): RuleProblem[] {
  const out: RuleProblem[] = [];
  const cfg = h.opensmtpd ?? {};
  if (!h.adminaddr) out.push({ message: "role opensmtpd needs adminaddr: where the scan host's own root and postmaster mail goes" });
  // the scan host forwards all its own mail to adminaddr: an address of its own would loop
  const adminDomain = h.adminaddr?.slice(h.adminaddr.lastIndexOf("@") + 1).toLowerCase();
  if (adminDomain && [h.fqdn, cfg.hostname ?? h.fqdn, "localhost"].some((n) => n.toLowerCase() === adminDomain)) {
    out.push({ field: ["adminaddr"], message: `adminaddr ${h.adminaddr} is an address of this scan host, which forwards all its own mail to adminaddr: it would loop; name a mailbox elsewhere` });
  }
  out.push(...mailRules(h.mail, "opensmtpd"), ...adminaddrRules(h, fleet));

  // The store: another host with a mail store, reachable over LMTP/TCP, holding the same mailboxes.
  const store = cfg.store;
  if (store === undefined) {
    out.push({ field: ["opensmtpd"], message: "role opensmtpd needs opensmtpd.store: the host whose mail store keeps the mail (a scan host keeps none at rest)" });
  } else if (store === h.name) {
    out.push({ field: ["opensmtpd", "store"], message: `opensmtpd.store names this host; the scan host delivers to a mail store on another host (give that host a role that offers one, ${links.providers("mailStore").join(", ")}, and name it here)` });
  } else out.push(...storeRules(h, store, ["opensmtpd", "store"], { fleet, links }));

  // TLS: required where OpenSMTPD can do it, refused where it cannot.
  if (data.starttls === true && !cfg.tls) {
    out.push({ field: ["opensmtpd"], message: "role opensmtpd listens with STARTTLS: set opensmtpd.tls (cert and key paths on the host)" });
  } else if (data.starttls !== true && cfg.tls) {
    out.push({ field: ["opensmtpd", "tls"], message: `opensmtpd.tls cannot be used on platform ${h.platform}: ${data.starttls.broken}; leave it out there, or run the scan host on freebsd` });
  }

  if ((cfg.filter ?? "rspamd") === "rspamd" && !rspamdUrl(h, links)) {
    const socket = links.of().scanner?.socket;
    out.push({
      field: ["opensmtpd"],
      message: socket
        ? `the scanner on this host listens on the unix socket ${socket}, and filter-rspamd reaches it over HTTP only: have it listen at a loopback address and port (e.g. 127.0.0.1:11333), or set opensmtpd.rspamdUrl`
        : `role opensmtpd scans every message: give this host a role that offers a scanner (${links.providers("scanner").join(", ")}), or set opensmtpd.rspamdUrl to a scanner on another host, or opensmtpd.filter: none`,
    });
  }
  if (cfg.rspamdUrl && cfg.filter === "none") out.push({ field: ["opensmtpd", "rspamdUrl"], message: "opensmtpd.rspamdUrl is set but opensmtpd.filter is none: remove one of them" });

  // SMTP smuggling: this OpenSMTPD cannot refuse a bare LF dot, so listening beyond loopback is the inventory's explicit choice.
  const exposed = listenAddresses(h).filter((a) => !isLoopback(a));
  if (data.smuggling && exposed.length && cfg.smugglingRisk !== "accepted") {
    out.push({
      field: cfg.listen ? ["opensmtpd", "listen"] : ["opensmtpd"],
      message: `opensmtpd listens on ${exposed.join(", ")}${cfg.listen ? "" : " (the default: every address)"}, beyond loopback, and on ${h.platform} ${data.smuggling}; listen on loopback only, or set opensmtpd.smugglingRisk: accepted (docs/scanning.md, security)`,
    });
  }

  // Relay for the fleet only: every host relaying through this one is let in by its address, so that address must be known.
  for (const c of relayClients(h, fleet)) {
    if (c.address) continue;
    out.push({
      host: c.host,
      field: ["address"],
      message: `host ${c.host} relays through ${h.name}, which lets hosts relay by their address, but ${c.host}'s address is unknown (its transport is not ssh to an IP address); set address: to the IP it sends mail from`,
    });
  }
  // Outbound through the host's relay: what OpenSMTPD's relay action can say.
  const relay = h.relay;
  if (relay) {
    if (namesOf(h).has(relay.host.toLowerCase())) out.push({ field: ["relay", "host"], message: `relay.host names ${h.name} itself: its outbound mail would loop; name the next hop, or leave relay out (mail then goes to each domain's MX)` });
    if (relay.auth) out.push({ field: ["relay", "auth"], message: "role opensmtpd does not relay with authentication yet; relay through a host that lets this one in by its address" });
    if (relay.caFile) out.push({ field: ["relay", "caFile"], message: "role opensmtpd verifies the relay against the system's CA certificates; relay.caFile is not supported" });
    if (relay.protocol === "qmqp") out.push({ field: ["relay", "protocol"], message: "role opensmtpd relays over SMTP only" });
  }
  return out;
}

/** 127.0.0.0/8 and ::1 (spelt any way the address schema lets through). */
function isLoopback(address: string): boolean {
  if (/^127\./.test(address)) return true;
  if (!address.includes(":")) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  return /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(a) || a === "::ffff:127.0.0.1";
}
