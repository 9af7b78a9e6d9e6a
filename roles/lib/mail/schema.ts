// The `mail:` section: the domains, users and aliases a hub serves, and who
// owns the mail on disk. Shared by every role of the receiving side
// (postfix-hub, dovecot, and the scanning MTA), which import this one schema
// object so the inventory has one `mail:` whatever roles a host has.
import { z } from "zod";
import { GIVEN_HASH_SCHEMES, givenHashProblem } from "./passwords.ts";
import { absolutePath, aliasTarget, loginName, mailDomain, mailUser, secretRef, storageSize } from "../../../src/inventory/fields.ts";

const id = z.number().int("a whole number").min(1, "an id from 1 (root, 0, never owns mail)").max(2_147_483_646, "an id below 2^31 - 1");

export const mailboxOwner = z.strictObject({
  user: loginName.optional().describe("default vmail"),
  group: loginName.optional().describe("default vmail"),
  uid: id.optional().describe("default 5000"),
  gid: id.optional().describe("default 5000"),
});

/** A hash given in the inventory, as `doveadm pw` prints it. */
export const givenHash = z.string().superRefine((text, ctx) => {
  const problem = givenHashProblem(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem, params: { alone: true } });
});

export const mailUserSettings = z
  .strictObject({
    password: secretRef.optional().describe("{ env: NAME } | { file: path } | { command: '...' }; stored on the host only as a BLF-CRYPT hash"),
    passwordHash: z
      .union([givenHash, secretRef])
      .optional()
      .describe(`instead of password: its hash as \`doveadm pw\` prints it ({${Object.keys(GIVEN_HASH_SCHEMES).join("|")}}...), inline or { file } | { env } | { command }`),
    quota: storageSize.optional().describe("storage quota, e.g. 2G; none: unlimited"),
  })
  .superRefine((u, ctx) => {
    if ((u.password === undefined) === (u.passwordHash === undefined)) {
      ctx.addIssue({ code: "custom", message: "give the mailbox either password or passwordHash (one of them, not both)", params: { alone: true } });
    }
  });

export const mailDomainSettings = z.strictObject({
  users: z.record(mailUser, mailUserSettings).optional().describe("mailboxes: user name -> password (and quota)"),
  aliases: z
    .record(mailUser, z.union([aliasTarget, z.array(aliasTarget).min(1, "at least one address")]))
    .optional()
    .describe("alias -> a user of this domain, an address, or a list of them"),
});

export const mailSettings = z.strictObject({
  owner: mailboxOwner.optional().describe("the system user and group owning every mailbox on disk (created when missing)"),
  base: absolutePath.optional().describe("where the mailboxes live: <base>/<domain>/<user>/Maildir; default /var/vmail"),
  domains: z.record(mailDomain, mailDomainSettings).optional().describe("virtual domains: domain -> users and aliases"),
});
export type MailSettings = z.infer<typeof mailSettings>;

/** Another host of the inventory, named by its key under hosts: (a hub's or a scan host's store). */
export const inventoryHost = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "the name of a host of this inventory");

/** A certificate and its key, as paths on the host (mailfleet writes neither). */
export const tlsFiles = z.strictObject({
  cert: absolutePath.describe("certificate chain (PEM) on the host"),
  key: absolutePath.describe("private key (PEM) on the host"),
});

/** The shared section, for the sections of the roles that read it. */
export const mailSections = { mail: mailSettings };
