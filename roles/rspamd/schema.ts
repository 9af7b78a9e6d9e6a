import { z } from "zod";
import { absolutePath, secretRef } from "../../src/inventory/fields.ts";

const score = z.number().min(0, "a score >= 0").max(10_000, "a score up to 10000");

/** host:port of a redis server. */
const redisServer = z
  .string()
  .max(300)
  .regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, "host:port of a redis server, e.g. 127.0.0.1:6379");

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
});
export type RspamdSettings = z.infer<typeof rspamdSettings>;

export const rspamdSections = { rspamd: rspamdSettings };
