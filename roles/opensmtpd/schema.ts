// The `opensmtpd:` section (the scan host's own settings); the domains, users
// and aliases it accepts come from the shared `mail:` section (roles/lib/mail).
import { z } from "zod";
import { hostname, ipAddress, network, port } from "../../src/inventory/fields.ts";
import { inventoryHost, mailSettings, tlsFiles } from "../lib/mail/schema.ts";

/** Where filter-rspamd finds rspamd's scanning worker: http://host:port, nothing more. */
const rspamdUrl = z
  .string()
  .max(300, "http://host:port of at most 300 characters")
  .regex(/^http:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, "http://host:port of rspamd's scanning worker, e.g. http://127.0.0.1:11333");

/** A message size as smtpd's max-message-size takes it, in bytes or with a unit: 35M, 10240k, 1G. */
export const messageSize = z
  .union([
    z.number().int("a whole number of bytes"),
    z.string().regex(/^[1-9][0-9]{0,9}[kMG]?$/, "a size: a whole number of bytes with an optional unit k, M or G, such as 35M"),
  ])
  .refine((s) => messageSizeBytes(s) >= 64 * 1024 && messageSizeBytes(s) <= 4 * 1024 ** 3, "from 64k to 4G");

const UNIT = { k: 1024, M: 1024 ** 2, G: 1024 ** 3 } as const;
/** messageSize in bytes. */
export function messageSizeBytes(s: string | number): number {
  if (typeof s === "number") return s;
  const unit = s.slice(-1) as keyof typeof UNIT;
  return unit in UNIT ? Number(s.slice(0, -1)) * UNIT[unit] : Number(s);
}

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
  maxMessageSize: messageSize
    .optional()
    .describe("the largest message accepted (smtpd's max-message-size, advertised in EHLO's SIZE): a larger SIZE= is refused with 552 at MAIL FROM; default 35M, OpenSMTPD's own"),
  outsideServedSenders: z
    .boolean()
    .optional()
    .describe("true: clients outside the relay networks may give an address of the served domains in MAIL FROM; default false: 550 5.7.1 at MAIL FROM (the null sender stays accepted)"),
  smugglingRisk: z
    .literal("accepted", { error: "accepted (the only value): listening beyond loopback although this OpenSMTPD ends DATA at a bare LF dot (docs/scanning.md, security)" })
    .optional()
    .describe("accepted: listen beyond loopback although the platform's OpenSMTPD ends DATA at a bare LF dot (SMTP smuggling); required for every listen address outside loopback"),
});
export type OpensmtpdSettings = z.infer<typeof opensmtpdSettings>;

export const opensmtpdSections = { opensmtpd: opensmtpdSettings, mail: mailSettings };
