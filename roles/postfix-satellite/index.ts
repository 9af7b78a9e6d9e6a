// postfix-satellite: a Postfix null client for Linux hosts. All local mail
// (cron, apt, systemd) goes to one relay, with SASL over TLS, and every
// address is rewritten so it reaches one mailbox and shows the sending host.
import path from "node:path";
import { shq } from "../../src/engine/shell.ts";
import type { HostConfig } from "../../src/inventory/load.ts";
import { mtaSwitch } from "../../src/resources/mta-handover.ts";
import type { CommandResource, FileResource, Resource } from "../../src/resources/types.ts";
import { renderTemplate } from "../../src/templating.ts";
import type { Role } from "../types.ts";
import { maskSaslPasswd, relayhostValue, saslEntries } from "./maps.ts";

/** Debian's answer that leaves main.cf to us instead of asking. */
export const DEBCONF = "postfix postfix/main_mailer_type select No configuration";
const DEFAULT_COMPATIBILITY_LEVEL = "3.6";

function mainCfValue(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
}

export function tlsLevel(host: HostConfig): string {
  const relay = host.relay!;
  if (host.postfix?.tlsLevel) return host.postfix.tlsLevel;
  const auth = relay.auth !== undefined || Object.keys(host.postfix?.senderAuth ?? {}).length > 0;
  return auth || (relay.tls !== undefined && relay.tls !== "none") ? "encrypt" : "may";
}

export const postfixSatelliteRole: Role = (host, { platform, secrets }) => {
  const pf = platform.postfix;
  const cfg = host.postfix ?? {};
  const relay = host.relay!;
  const mapType = cfg.mapType ?? pf.mapType;
  const dbSuffix = mapType === "lmdb" ? ".lmdb" : ".db";
  const conf = (name: string) => path.posix.join(pf.configDir, name);
  const res: Resource[] = [];
  const serviceInputs: string[] = [];

  const switchFromNullmailer = mtaSwitch(platform, "nullmailer", [pf.sendmail, "-C", pf.configDir], "postfix");
  res.push(switchFromNullmailer.park);
  res.push({ kind: "package", id: "postfix:package", name: pf.package, state: "present", debconf: DEBCONF });
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
  const tables: Resource[] = [];
  /** A lookup table: its source file, and postmap run when the source changes. */
  const table = (name: string, content: string | undefined, mode: number, extra: Partial<FileResource> = {}): string | undefined => {
    const source = conf(name);
    const db = `${source}${dbSuffix}`;
    if (content === undefined) {
      tables.push({ kind: "file", id: `postfix:${name}`, path: source, content: "", mode, owner: "root", group: "root", state: "absent" });
      tables.push({ kind: "file", id: `postfix:${name}${dbSuffix}`, path: db, content: "", mode, owner: "root", group: "root", state: "absent" });
      return undefined;
    }
    tables.push({ kind: "file", id: `postfix:${name}`, path: source, content, mode, owner: "root", group: "root", ...extra });
    const postmap: CommandResource = {
      kind: "command",
      id: `postfix:postmap-${name}`,
      description: `postmap ${source}`,
      // postmap gives the output the source's owner and mode (so 0600 stays 0600); never -p.
      command: `${shq(pf.postmap)} -c ${shq(pf.configDir)} ${shq(`${mapType}:${source}`)}`,
      inputs: [`postfix:${name}`],
      sources: [source],
      creates: [{ path: db, mode, owner: "root", group: "root" }],
    };
    tables.push(postmap);
    return `${mapType}:${source}`;
  };

  const relayhost = relayhostValue(relay);
  const saslPasswordMap = table(
    "sasl_passwd",
    auth ? renderTemplate("postfix-satellite", "sasl_passwd", { entries: saslEntries(relayhost, relay, cfg.senderAuth, secrets) }) : undefined,
    0o600,
    { sensitive: true, mask: maskSaslPasswd },
  );
  const genericEntries = Object.entries(cfg.genericMaps ?? {}).map(([key, value]) => ({ key, value }));
  const genericMap = table("generic", genericEntries.length ? renderTemplate("postfix-satellite", "generic", { entries: genericEntries }) : undefined, 0o644);

  const headerChecksPath = conf("header_checks");
  tables.push(
    cfg.replyTo
      ? { kind: "file", id: "postfix:header_checks", path: headerChecksPath, content: renderTemplate("postfix-satellite", "header_checks", { replyTo: cfg.replyTo }), mode: 0o644, owner: "root", group: "root" }
      : { kind: "file", id: "postfix:header_checks", path: headerChecksPath, content: "", mode: 0o644, owner: "root", group: "root", state: "absent" },
  );

  const mainCf = renderTemplate("postfix-satellite", "main.cf", {
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
    recipientCanonical: cfg.recipientCanonical ?? "",
    headerChecks: cfg.replyTo ? `regexp:${headerChecksPath}` : "",
    genericMap: genericMap ?? "",
    extra: Object.entries(cfg.mainCf ?? {}).map(([name, value]) => ({ name, value: mainCfValue(value) })),
  });
  res.push({ kind: "file", id: "postfix:main.cf", path: conf("main.cf"), content: mainCf, mode: 0o644, owner: "root", group: "root" });
  res.push(...tables);
  // What Postfix reads: the map sources only through the files postmap writes.
  serviceInputs.push("postfix:main.cf", "postfix:header_checks", ...tables.filter((r) => r.kind === "command").map((r) => r.id));

  res.push({
    kind: "service",
    id: "postfix:service",
    name: pf.service,
    inputs: serviceInputs,
    onChange: "reload",
    // postfix check, and no postconf warning (a misspelt mainCf key shows as "unused parameter")
    check: `${shq(pf.postfix)} -c ${shq(pf.configDir)} check && ! ${shq(pf.postconf)} -c ${shq(pf.configDir)} -n 2>&1 >/dev/null | grep 'warning:' >&2`,
  });
  // Deferred mail (say, after a wrong relay password) is retried now, not at the next queue run.
  // A reload replaces qmgr and the smtp clients asynchronously: a flush handled by the old
  // ones is lost or retried with the old credentials (and then backs off for minutes), so a
  // second flush follows once the reload has taken effect.
  const flush = `${shq(pf.postqueue)} -c ${shq(pf.configDir)} -f`;
  res.push({
    kind: "command",
    id: "postfix:flush",
    description: "postqueue -f (retry deferred mail with the new relay settings)",
    command: `${flush} && sleep 2 && ${flush}`,
    inputs: saslPasswordMap ? ["postfix:main.cf", "postfix:postmap-sasl_passwd"] : ["postfix:main.cf"],
    sources: [],
    creates: [],
  });
  res.push(switchFromNullmailer.deliver);
  return res;
};
