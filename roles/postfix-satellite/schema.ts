import { z } from "zod";
import { emailAddress, hostname, secretRef, singleLine } from "../../src/inventory/fields.ts";
import { compatibilityLevel, mainCfAddress, mainCfSettings } from "../lib/postfix/schema.ts";

/** A lookup table line starting with '#' is a comment: such a key would silently do nothing. */
const notComment = (v: string) => !v.startsWith("#");
const COMMENT_KEY = "a key starting with '#' would be a comment line in the table and do nothing";

/** A key of smtp_generic_maps: user@domain, @domain or a bare local user. */
const genericKey = z
  .string()
  .max(254)
  .refine(notComment, COMMENT_KEY)
  .refine(
    (v) => emailAddress.safeParse(v).success || (v.startsWith("@") && hostname.safeParse(v.slice(1)).success) || /^[A-Za-z0-9._+-]{1,64}$/.test(v),
    "user@domain, @domain or a local user name",
  );

export const TLS_LEVELS = ["none", "may", "encrypt", "verify", "secure"] as const;
/** Levels that never send a password in the clear. */
export const ENCRYPTED_TLS_LEVELS: readonly string[] = ["encrypt", "verify", "secure"];

/** The parameters the role writes itself; `mainCf` may not set them twice. */
export const MANAGED_PARAMETERS = [
  "compatibility_level",
  "myhostname",
  "myorigin",
  "mydestination",
  "inet_interfaces",
  "mynetworks",
  "relayhost",
  "smtp_sasl_auth_enable",
  "smtp_sasl_security_options",
  "smtp_sasl_password_maps",
  "smtp_sender_dependent_authentication",
  "smtp_tls_security_level",
  "smtp_tls_wrappermode",
  "smtp_tls_CAfile",
  "sender_canonical_maps",
  "recipient_canonical_maps",
  "masquerade_domains",
  "header_checks",
  "smtp_generic_maps",
] as const;

export const postfixSettings = z.strictObject({
  compatibilityLevel: compatibilityLevel.optional().describe("compatibility_level; default 3.6 (what Debian 12 ships)"),
  myhostname: hostname.optional().describe("default <host>.<domain>"),
  myorigin: hostname.optional().describe("domain appended to unqualified addresses; default the host's name (from /etc/mailname)"),
  senderCanonical: z
    .literal("static")
    .optional()
    .describe("static: every sender becomes <host>@<domain> (sender_canonical_maps static:<host>, masqueraded to the domain)"),
  recipientCanonical: mainCfAddress.optional().describe("every recipient is rewritten to this one address (recipient_canonical_maps static:), except the host's own users, whose mail goes to adminaddr when set"),
  replyTo: emailAddress.optional().describe("a Reply-To: header with this address is added to every message (header_checks)"),
  tlsLevel: z
    .enum(TLS_LEVELS)
    .optional()
    .describe("smtp_tls_security_level; default encrypt when relay.auth or relay.tls is set, otherwise may"),
  mapType: z.enum(["hash", "lmdb"]).optional().describe("lookup table type for sasl_passwd and generic; default hash; lmdb installs postfix-lmdb"),
  senderAuth: z
    .record(
      z.string().refine(notComment, COMMENT_KEY).pipe(emailAddress.or(z.string().regex(/^@[A-Za-z0-9.-]+$/, "@domain"))),
      z.strictObject({ user: singleLine, password: secretRef.describe("{ env: NAME } | { file: path } | { command: '...' }") }),
    )
    .optional()
    .describe("relay credentials per sender address or @domain (smtp_sender_dependent_authentication); relay.auth is the fallback"),
  genericMaps: z
    .record(genericKey, emailAddress)
    .optional()
    .describe("smtp_generic_maps: address rewriting on the way out, key -> address"),
  mainCf: mainCfSettings.optional().describe("further main.cf settings, name -> value; removing a key removes its line"),
});
export type PostfixSettings = z.infer<typeof postfixSettings>;

/** The settings sections the role reads. */
export const postfixSections = { postfix: postfixSettings };
