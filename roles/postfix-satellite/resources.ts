// The postfix-satellite role's desired state on one host.
import path from "node:path";
import type { Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { mtaSwitch } from "../lib/mta/handover.ts";
import { roleTemplates } from "../templates.ts";
import type { RoleContext, RoleHost } from "../types.ts";
import { relayhostValue, saslEntries } from "./maps.ts";
import type { PostfixData } from "../lib/postfix/platforms.ts";
import { postfixQueue } from "../lib/postfix/queue.ts";
import { DEFAULT_COMPATIBILITY_LEVEL, mainCfValueText } from "../lib/postfix/schema.ts";
import { postfixCheck, postfixTables } from "../lib/postfix/tables.ts";
import type { postfixSections } from "./schema.ts";

export const templates = roleTemplates("postfix-satellite");

type SatelliteHost = RoleHost<typeof postfixSections>;


/** `s` as a literal in a Postfix regexp table (POSIX ERE between slashes). */
const regexpLiteral = (s: string) => s.replace(/[.+*?^$|(){}[\]\\/]/g, "\\$&");

export function tlsLevel(host: SatelliteHost): string {
  const relay = host.relay!;
  if (host.postfix?.tlsLevel) return host.postfix.tlsLevel;
  const auth = relay.auth !== undefined || Object.keys(host.postfix?.senderAuth ?? {}).length > 0;
  return auth || (relay.tls !== undefined && relay.tls !== "none") ? "encrypt" : "may";
}

export function postfixSatelliteResources(host: SatelliteHost, ctx: RoleContext<PostfixData>): Resource[] {
  const { data: pf, secrets } = ctx;
  const cfg = host.postfix ?? {};
  const relay = host.relay!;
  const mapType = cfg.mapType ?? pf.mapType;
  const conf = (name: string) => path.posix.join(pf.configDir, name);
  const res: Resource[] = [];
  const serviceInputs: string[] = [];

  const handover = mtaSwitch(ctx.platform, postfixQueue(pf), ctx.otherMtas, "postfix");
  res.push(...handover.park);
  res.push({ kind: "package", id: "postfix:package", name: pf.package, state: "present", debconf: pf.debconf });
  const auth = relay.auth !== undefined || Object.keys(cfg.senderAuth ?? {}).length > 0;
  // "No worthy mechs found" without it: the SASL client needs its mechanism plugins.
  if (auth) res.push({ kind: "package", id: "postfix:sasl-modules", name: "libsasl2-modules", state: "present" });
  if (mapType === "lmdb") res.push({ kind: "package", id: "postfix:lmdb", name: "postfix-lmdb", state: "present" });

  const mailname = cfg.myorigin ?? host.fqdn;
  if (pf.mailname) {
    res.push({ kind: "file", id: "postfix:mailname", path: pf.mailname, content: `${mailname}\n`, mode: 0o644, owner: "root", group: "root" });
    serviceInputs.push("postfix:mailname");
  }

  // Written after main.cf: postmap reads main.cf, which a fresh install ("No configuration") lacks.
  const { resources: tables, table } = postfixTables(pf, mapType);

  const relayhost = relayhostValue(relay);
  const saslPasswordMap = table(
    "sasl_passwd",
    auth ? templates.render("sasl_passwd", { entries: saslEntries(relayhost, relay, cfg.senderAuth, secrets) }) : undefined,
    0o600,
    { sensitive: true, mask: "postfix-satellite:sasl_passwd" },
  );
  const genericEntries = Object.entries(cfg.genericMaps ?? {}).map(([key, value]) => ({ key, value }));
  const genericMap = table("generic", genericEntries.length ? templates.render("generic", { entries: genericEntries }) : undefined, 0o644);

  const headerChecksPath = conf("header_checks");
  tables.push(
    cfg.replyTo
      ? { kind: "file", id: "postfix:header_checks", path: headerChecksPath, content: templates.render("header_checks", { replyTo: cfg.replyTo }), mode: 0o644, owner: "root", group: "root" }
      : { kind: "file", id: "postfix:header_checks", path: headerChecksPath, content: "", mode: 0o644, owner: "root", group: "root", state: "absent" },
  );

  // adminaddr: a local user's mail (root, cron; unqualified addresses get myorigin) goes there, before recipientCanonical
  const localNames = [...new Set([cfg.myhostname ?? host.fqdn, host.fqdn, mailname, "localhost", "localhost.localdomain"].map((n) => n.toLowerCase()))];
  const adminMapPath = conf("recipient_canonical");
  tables.push(
    host.adminaddr
      ? {
          kind: "file",
          id: "postfix:recipient_canonical",
          path: adminMapPath,
          content: templates.render("recipient_canonical", { names: localNames.map(regexpLiteral).join("|"), adminaddr: host.adminaddr, adminaddrPattern: regexpLiteral(host.adminaddr) }),
          mode: 0o644,
          owner: "root",
          group: "root",
        }
      : { kind: "file", id: "postfix:recipient_canonical", path: adminMapPath, content: "", mode: 0o644, owner: "root", group: "root", state: "absent" },
  );
  const recipientMaps = [host.adminaddr ? `regexp:${adminMapPath}` : "", cfg.recipientCanonical ? `static:${cfg.recipientCanonical}` : ""].filter(Boolean).join(", ");

  const mainCf = templates.render("main.cf", {
    compatibilityLevel: cfg.compatibilityLevel ?? DEFAULT_COMPATIBILITY_LEVEL,
    myhostname: cfg.myhostname ?? host.fqdn,
    myorigin: pf.mailname ?? mailname,
    relayhost,
    auth,
    saslPasswordMap: saslPasswordMap ?? "",
    senderDependent: Object.keys(cfg.senderAuth ?? {}).length > 0,
    tlsLevel: tlsLevel(host),
    wrapperMode: relay.tls === "tls",
    caFile: relay.caFile ?? "",
    senderCanonical: cfg.senderCanonical === "static" ? host.name : "",
    domain: host.domain,
    recipientMaps,
    headerChecks: cfg.replyTo ? `regexp:${headerChecksPath}` : "",
    genericMap: genericMap ?? "",
    extra: Object.entries(cfg.mainCf ?? {}).map(([name, value]) => ({ name, value: mainCfValueText(value) })),
  });
  res.push({ kind: "file", id: "postfix:main.cf", path: conf("main.cf"), content: mainCf, mode: 0o644, owner: "root", group: "root" });
  res.push(...tables);
  // What Postfix reads: the map sources only through the files postmap writes.
  serviceInputs.push("postfix:main.cf", "postfix:header_checks", "postfix:recipient_canonical", ...tables.filter((r) => r.kind === "command").map((r) => r.id));

  res.push({
    kind: "service",
    id: "postfix:service",
    name: pf.service,
    inputs: serviceInputs,
    onChange: "reload",
    // postfix check, and no postconf warning (a misspelt mainCf key shows as "unused parameter")
    check: postfixCheck(pf),
  });
  // Deferred mail (say, after a wrong relay password) is retried now, not at the next queue run.
  // A reload replaces qmgr and the smtp clients asynchronously: a flush handled by the old
  // ones is lost or retried with the old credentials (and then backs off for minutes), so a
  // second flush follows once the reload has taken effect.
  const flush = sh`${pf.postqueue} -c ${pf.configDir} -f`;
  res.push({
    kind: "command",
    id: "postfix:flush",
    description: "postqueue -f (retry deferred mail with the new relay settings)",
    command: sh`${flush} && sleep 2 && ${flush}`,
    inputs: saslPasswordMap ? ["postfix:main.cf", "postfix:postmap-sasl_passwd"] : ["postfix:main.cf"],
    sources: [],
    creates: [],
  });
  if (handover.park.length) res.push(handover.deliver);
  return res;
}
