// The `opensmtpd:` section (the scan host's own settings); the domains, users
// and aliases it accepts come from the shared `mail:` section (roles/mail).
import { z } from "zod";
import { hostname, ipAddress, network, port } from "../../src/inventory/fields.ts";
import { inventoryHost, mailSettings, tlsFiles } from "../mail/schema.ts";

/** Where filter-rspamd finds rspamd's scanning worker: http://host:port, nothing more. */
const rspamdUrl = z
  .string()
  .max(300, "http://host:port of at most 300 characters")
  .regex(/^http:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, "http://host:port of rspamd's scanning worker, e.g. http://127.0.0.1:11333");

export const opensmtpdSettings = z.strictObject({
  store: inventoryHost
    .optional()
    .describe("the host whose Dovecot (role dovecot) stores the mail, delivered over LMTP/TCP; required: a scan host keeps no mail at rest"),
  tls: tlsFiles
    .optional()
    .describe("certificate and key for STARTTLS; required where the platform's OpenSMTPD does TLS (freebsd), refused on debian (docs/scanning.md)"),
  listen: z
    .array(ipAddress)
    .min(1, "at least one address")
    .max(32)
    .optional()
    .describe("addresses smtpd listens on; default 0.0.0.0 and :: (every IPv4 and IPv6 address)"),
  port: port.optional().describe("port smtpd listens on; default 25"),
  networks: z
    .array(network)
    .optional()
    .describe("networks allowed to relay besides loopback and the inventory's hosts relaying through this one (added by their address)"),
  filter: z
    .enum(["rspamd", "none"])
    .optional()
    .describe("rspamd (default): every message is scanned during the SMTP session (filter-rspamd); none: no scanning"),
  rspamdUrl: rspamdUrl.optional().describe("where filter-rspamd asks rspamd; default this host's rspamd.listen (role rspamd)"),
  hostname: hostname.optional().describe("the name smtpd greets with and its certificate is for; default the host's fqdn"),
});
export type OpensmtpdSettings = z.infer<typeof opensmtpdSettings>;

export const opensmtpdSections = { opensmtpd: opensmtpdSettings, mail: mailSettings };
