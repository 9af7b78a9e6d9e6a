// The `hub:` section (the postfix-hub role's own settings); `mail:` is shared
// with the dovecot role (roles/lib/mail/schema.ts).
import { z } from "zod";
import { hostname, ipAddress, network, port } from "../../src/inventory/fields.ts";
import { inventoryHost, mailSettings, tlsFiles } from "../lib/mail/schema.ts";
import { compatibilityLevel, mainCfSettings } from "../lib/postfix/schema.ts";

export const hubSettings = z.strictObject({
  networks: z
    .array(network)
    .optional()
    .describe("networks allowed to relay besides loopback and the inventory's satellites (which are added by their address)"),
  tls: tlsFiles.optional().describe("certificate and key for STARTTLS on port 25 (and submission)"),
  submission: z
    .strictObject({ port: port.optional().describe("default 587") })
    .optional()
    .describe("offer SMTP submission with SASL authentication (by Dovecot on this host) over TLS; needs hub.tls"),
  port: port.optional().describe("port smtpd listens on; default 25"),
  interfaces: z
    .array(ipAddress)
    .min(1, "at least one address")
    .optional()
    .describe("addresses smtpd listens on (inet_interfaces); default all"),
  store: inventoryHost.optional().describe("the host running Dovecot that stores this hub's mail (delivered over LMTP/TCP); default this host (LMTP over a unix socket)"),
  myhostname: hostname.optional().describe("default the host's fqdn"),
  compatibilityLevel: compatibilityLevel.optional().describe("compatibility_level; default 3.6 (what Debian 12 ships)"),
  outsideSenders: z
    .enum(["foreign-domains", "any"])
    .optional()
    .describe(
      "foreign-domains (default): clients outside the fleet may not use a served domain in MAIL FROM on port 25 (its users send through submission); any: they may (e.g. for a forwarding service that keeps the envelope sender)",
    ),
  vrfy: z.boolean().optional().describe("answer VRFY (default false: VRFY tells users from non-users)"),
  mainCf: mainCfSettings.optional().describe("further main.cf settings, name -> value (not those the role writes itself)"),
});
export type HubSettings = z.infer<typeof hubSettings>;

/**
 * The first release of each Postfix branch with `smtpd_forbid_bare_newline =
 * normalize` (postconf(5)): the hub refuses an older Postfix at plan.
 */
export const BARE_NEWLINE_NORMALIZE = ["3.5.24", "3.6.14", "3.7.10", "3.8.5", "3.9"] as const;

/** The parameters the role writes itself; `hub.mainCf` may not set them twice. */
export const HUB_MANAGED_PARAMETERS = [
  "compatibility_level",
  "myhostname",
  "myorigin",
  "mydestination",
  "relay_domains",
  "inet_interfaces",
  "mynetworks",
  "mynetworks_style",
  "smtpd_relay_restrictions",
  "smtpd_reject_unlisted_recipient",
  "alias_maps",
  "alias_database",
  "local_recipient_maps",
  "virtual_mailbox_domains",
  "virtual_mailbox_maps",
  "virtual_alias_domains",
  "virtual_alias_maps",
  "virtual_transport",
  "lmtp_bind_address",
  "lmtp_bind_address6",
  "smtpd_tls_cert_file",
  "smtpd_tls_key_file",
  "smtpd_tls_security_level",
  "smtpd_sasl_type",
  "smtpd_sasl_path",
  "smtpd_sasl_auth_enable",
  "smtpd_forbid_bare_newline",
  "smtpd_forbid_bare_newline_exclusions",
  "local_transport",
  "disable_vrfy_command",
  "smtpd_sender_restrictions",
  "smtpd_sender_login_maps",
  "submission_sender_restrictions",
  "smtpd_tls_auth_only",
  "smtpd_tls_mandatory_protocols",
  "smtpd_tls_mandatory_ciphers",
  "smtpd_tls_mandatory_exclude_ciphers",
] as const;

export const hubSections = { hub: hubSettings, mail: mailSettings };
