// The `hub:` section (the postfix-hub role's own settings); `mail:` is shared
// with the dovecot role (roles/mail/schema.ts).
import { z } from "zod";
import { hostname, ipAddress, network, port } from "../../src/inventory/fields.ts";
import { mailSettings, tlsFiles } from "../mail/schema.ts";
import { compatibilityLevel, mainCfSettings } from "../postfix/schema.ts";

/** An inventory host name (a key under hosts:). */
const hostRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "the name of a host of this inventory");

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
  store: hostRef.optional().describe("the host running Dovecot that stores this hub's mail (delivered over LMTP/TCP); default this host (LMTP over a unix socket)"),
  myhostname: hostname.optional().describe("default the host's fqdn"),
  compatibilityLevel: compatibilityLevel.optional().describe("compatibility_level; default 3.6 (what Debian 12 ships)"),
  mainCf: mainCfSettings.optional().describe("further main.cf settings, name -> value (not those the role writes itself)"),
});
export type HubSettings = z.infer<typeof hubSettings>;

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
  "smtpd_tls_cert_file",
  "smtpd_tls_key_file",
  "smtpd_tls_security_level",
  "smtpd_sasl_type",
  "smtpd_sasl_path",
  "smtpd_sasl_auth_enable",
] as const;

export const hubSections = { hub: hubSettings, mail: mailSettings };
