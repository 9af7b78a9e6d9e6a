// The `dovecot:` section (Dovecot's own settings); users, domains and the
// mailbox owner are in the shared `mail:` section (roles/mail/schema.ts).
import { z } from "zod";
import { ipAddress, port } from "../../src/inventory/fields.ts";
import { mailSettings, tlsFiles } from "../mail/schema.ts";

export const DOVECOT_PROTOCOLS = ["imap", "pop3"] as const;

export const dovecotSettings = z.strictObject({
  tls: tlsFiles.optional().describe("certificate and key for IMAP and POP3 (required: logins happen only over TLS)"),
  protocols: z.array(z.enum(DOVECOT_PROTOCOLS)).min(1, "at least one of imap, pop3").optional().describe("default [imap, pop3]"),
  listen: z
    .array(z.union([ipAddress, z.literal("*"), z.literal("::")]))
    .min(1, "at least one address")
    .optional()
    .describe("addresses IMAP and POP3 listen on; default ['*', '::'] (every IPv4 and IPv6 address)"),
  lmtp: z
    .strictObject({
      address: ipAddress.optional().describe("default the host's address"),
      port: port.optional().describe("default 24"),
    })
    .optional()
    .describe("LMTP over TCP for an MTA on another host (opened anyway when a hub's hub.store names this host)"),
});
export type DovecotSettings = z.infer<typeof dovecotSettings>;

export const dovecotSections = { dovecot: dovecotSettings, mail: mailSettings };
