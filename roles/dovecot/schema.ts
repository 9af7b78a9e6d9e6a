// The `dovecot:` section (Dovecot's own settings); users, domains and the
// mailbox owner are in the shared `mail:` section (roles/lib/mail/schema.ts).
import { z } from "zod";
import { duration, ipAddress, port } from "../../src/inventory/fields.ts";
import { mailSettings, tlsFiles } from "../lib/mail/schema.ts";

export const DOVECOT_PROTOCOLS = ["imap", "pop3"] as const;

/** The bounds on failed logins when the inventory names none (docs/hub.md, "Security"). */
export const AUTH_LIMIT_DEFAULTS = { window: 3600, clientFailures: 10, accountFailures: 10, newClientInterval: 300 } as const;

const failures = z.number().int("a whole number").min(1, "at least 1").max(1000, "at most 1000");

export const authLimits = z.union([
  z.literal(false).describe("no bound beyond Dovecot's per-address auth penalty (the only choice where Dovecot has no Lua passdb: smartos, freebsd)"),
  z
    .strictObject({
      window: duration.optional().describe(`the sliding window failures are counted in, in seconds; default ${AUTH_LIMIT_DEFAULTS.window}`),
      clientFailures: failures.optional().describe(`failed logins a client (an IPv4 address, an IPv6 /64) may make per window, over all accounts; default ${AUTH_LIMIT_DEFAULTS.clientFailures}`),
      accountFailures: failures.optional().describe(`failed logins an account may take per window, from all clients; default ${AUTH_LIMIT_DEFAULTS.accountFailures}`),
      newClientInterval: duration
        .optional()
        .describe(`once an account is over its bound: one attempt per this many seconds from a client that has not failed for it; default ${AUTH_LIMIT_DEFAULTS.newClientInterval}`),
    })
    .describe("bounds on failed logins (IMAP, POP3, the hub's SMTP AUTH); beyond them a temporary failure, the password unchecked"),
]);
export type AuthLimits = Required<Exclude<z.infer<typeof authLimits>, false>>;

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
      clients: z
        .array(ipAddress)
        .min(1, "at least one address")
        .max(64)
        .optional()
        .describe("addresses of MTAs outside the inventory that may deliver here over LMTP (the inventory's are added by themselves)"),
    })
    .optional()
    .describe("LMTP over TCP for MTAs on other hosts, which alone may deliver (opened anyway when a hub's hub.store or a scan host's opensmtpd.store names this host)"),
  authLimits: authLimits.optional().describe("bounds on failed logins per client and per account; default on (where Dovecot has a Lua passdb) with the defaults of each field"),
  localPlaintext: z
    .boolean()
    .optional()
    .describe("let clients on this host itself (source address = destination address, e.g. a webmail on 127.0.0.1) log in over IMAP and POP3 without TLS; default false"),
});
export type DovecotSettings = z.infer<typeof dovecotSettings>;

export const dovecotSections = { dovecot: dovecotSettings, mail: mailSettings };
