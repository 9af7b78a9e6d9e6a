import { z } from "zod";
import { absolutePath, mailDomain, secretRef } from "../../src/inventory/fields.ts";
import { mailSettings } from "../lib/mail/schema.ts";

const score = z.number().min(0, "a score >= 0").max(10_000, "a score up to 10000");

/** host:port of a redis server. */
const redisServer = z
  .string()
  .max(300)
  .regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, "host:port of a redis server, e.g. 127.0.0.1:6379");

/** A DKIM selector: one DNS label. */
const dkimSelector = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "one DNS label: lower-case letters, digits and '-', e.g. mf1");

const loopbackPort = z.string().regex(/^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\]):\d{1,5}$/, "a loopback address and port such as 127.0.0.1:11333");

/** Where the scanning worker listens: a loopback address and port, or a unix socket. Never a public address. */
const listen = z.union([
  loopbackPort.describe("127.0.0.1:11333"),
  absolutePath.describe("/run/rspamd/normal.sock"),
]);

/** Modules that need the network (DNS lists, rspamd.com services) or redis; each may be switched off. */
export const SWITCHABLE_MODULES = [
  "rbl",
  "fuzzy_check",
  "asn",
  "phishing",
  "greylist",
  "ratelimit",
  "neural",
  "replies",
  "url_redirector",
  "history_redis",
  "dkim_signing",
  "dmarc",
  "spf",
  "dkim",
] as const;

export const rspamdSettings = z.strictObject({
  actions: z
    .strictObject({
      reject: score.optional().describe("refuse the message (550 at DATA through OpenSMTPD's filter); rspamd's default 15"),
      addHeader: score.optional().describe("add X-Spam headers; default 6"),
      rewriteSubject: score.optional().describe("rewrite the subject; default off"),
      greylist: score.optional().describe("ask the sender to try again later (451); default 4"),
    })
    .optional()
    .describe("scores at which rspamd takes each action (local.d/actions.conf)"),
  listen: listen.optional().describe("where the scanning (normal) worker listens; default 127.0.0.1:11333, what OpenSMTPD's filter-rspamd connects to"),
  milter: loopbackPort
    .optional()
    .describe("where rspamd's milter (its proxy worker) listens for Postfix on this host; default 127.0.0.1:11332"),
  redis: z
    .strictObject({
      servers: z.array(redisServer).min(1, "at least one server").max(16),
      password: secretRef.optional().describe("{ env: NAME } | { file: path } | { command: '...' }"),
      db: z.number().int().min(0).max(255).optional(),
    })
    .optional()
    .describe("redis for bayes, greylisting and rate limits; without it rspamd still scans, and those modules stay off"),
  disable: z.array(z.enum(SWITCHABLE_MODULES)).max(SWITCHABLE_MODULES.length).optional().describe("modules switched off (e.g. rbl on a host without DNS)"),
  dkim: z
    .strictObject({
      selector: dkimSelector.optional().describe(`the selector of the RSA 2048 key; default ${"mf1"}`),
      ed25519: z.boolean().optional().describe("a second signature with an Ed25519 key (RFC 8463), selector <selector>e; default off"),
      domains: z.array(mailDomain).min(1).max(1000).optional().describe("the domains signed; default every domain of mail:"),
    })
    .optional()
    .describe("DKIM-sign the served domains' outbound mail (submission, the fleet's relayed mail) with keys generated on this host; their records: plan --json, public_keys"),
});
export type RspamdSettings = z.infer<typeof rspamdSettings>;

// mail: the domains a hub serves, the ones DKIM signs by default (the section every receiving role shares)
export const rspamdSections = { rspamd: rspamdSettings, mail: mailSettings };
