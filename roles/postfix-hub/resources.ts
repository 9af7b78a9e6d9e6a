// The postfix-hub role's desired state on one host.
import { isIP } from "node:net";
import path from "node:path";
import type { Resource } from "../../src/resources/types.ts";
import { sendingAddress } from "../lib/mail/fleet.ts";
import { mailOf } from "../lib/mail/model.ts";
import { addressOwners } from "../lib/mail/owners.ts";
import { requiredAliases } from "../lib/mail/required.ts";
import { mtaSwitch } from "../lib/mta/handover.ts";
import { postfixQueue } from "../lib/postfix/queue.ts";
import { DEFAULT_COMPATIBILITY_LEVEL, mainCfValueText } from "../lib/postfix/schema.ts";
import { postfixCheck, postfixTables } from "../lib/postfix/tables.ts";
import { sh } from "../../src/shell/builder.ts";
import { roleTemplates } from "../templates.ts";
import type { RoleContext, RoleHost } from "../types.ts";
import { relayNetworks } from "./networks.ts";
import type { PostfixHubData } from "./platforms.ts";
import { BARE_NEWLINE_NORMALIZE, type hubSections } from "./schema.ts";

export const templates = roleTemplates("postfix-hub");

type HubHost = RoleHost<typeof hubSections>;

/** A socket path as main.cf names it: relative to the queue directory when inside it (so chrooted services find it). */
function socketName(pf: PostfixHubData, socket: string): string {
  const prefix = `${pf.queueDirectory}/`;
  if (socket.startsWith(prefix)) return socket.slice(prefix.length);
  if (pf.chroot) throw new Error(`${socket} lies outside ${pf.queueDirectory}, where Postfix's chrooted services cannot reach it`);
  return socket;
}

/** The host whose mail store takes the hub's mail: hub.store, default the hub itself. */
export const storeOf = (host: HubHost): string => host.hub?.store ?? host.name;

/** virtual_transport: the mail store on this host over its unix socket, else the store host over LMTP/TCP. */
export function virtualTransport(host: HubHost, ctx: RoleContext<PostfixHubData>): string {
  const store = storeOf(host);
  if (store === host.name) return `lmtp:unix:${socketName(ctx.data, ctx.data.sockets.lmtp)}`;
  const ep = ctx.links.of(store).mailStore?.lmtp;
  if (!ep?.address) throw new Error(`hub ${host.name}: the address of its store ${store} is unknown`);
  return `lmtp:inet:[${ep.address}]:${ep.port}`;
}

/**
 * Over LMTP/TCP the store lets in exactly this hub's `address`: Postfix
 * connects from it (lmtp_bind_address), so a host with several addresses
 * does not pick another one, which the store would refuse.
 */
function lmtpBind(host: HubHost): { name: string; address: string } | false {
  if (storeOf(host) === host.name) return false;
  const address = sendingAddress(host);
  if (!address) return false;
  return { name: isIP(address) === 6 ? "lmtp_bind_address6" : "lmtp_bind_address", address };
}

export function postfixHubResources(host: HubHost, ctx: RoleContext<PostfixHubData>): Resource[] {
  const pf = ctx.data;
  const hub = host.hub ?? {};
  const mail = mailOf(host.mail);
  const conf = (name: string) => path.posix.join(pf.configDir, name);
  const res: Resource[] = [];

  const handover = mtaSwitch(ctx.platform, postfixQueue(pf), ctx.otherMtas, "postfix");
  res.push(...handover.park);
  res.push({ kind: "package", id: "postfix:package", name: pf.package, state: "present", debconf: pf.debconf });
  res.push({
    kind: "minVersion",
    id: "postfix:version",
    program: "Postfix",
    version: sh`${pf.postconf} -d -h mail_version`,
    minimum: [...BARE_NEWLINE_NORMALIZE],
    needs: "smtpd_forbid_bare_newline = normalize (SMTP smuggling, CVE-2023-51764)",
  });
  const serviceInputs = ["postfix:main.cf", "postfix:master.cf"];
  if (pf.mailname) {
    res.push({ kind: "file", id: "postfix:mailname", path: pf.mailname, content: `${host.fqdn}\n`, mode: 0o644, owner: "root", group: "root" });
    serviceInputs.push("postfix:mailname");
  }

  // postmaster of every served domain, and root and postmaster of the hub's own name (its cron mail and bounces), reach a mailbox
  const ownFqdn = host.fqdn.toLowerCase();
  const aliases = [...mail.domains.flatMap((d) => d.aliases), ...requiredAliases(mail, host.adminaddr, [ownFqdn], ["postmaster", "root"])];
  const ownName = mail.domains.some((d) => d.name === ownFqdn) ? undefined : ownFqdn;
  // Postfix notices a rebuilt indexed map by itself: a new user or alias needs no reload.
  const { resources: tables, table } = postfixTables(pf, pf.mapType);
  const mailboxMap = table("vmailbox", templates.render("vmailbox", { users: mail.users.map((u) => u.address) }), 0o644);
  const aliasMap = table("virtual", templates.render("virtual", { aliases: aliases.map((a) => ({ ...a, targets: a.targets.join(", ") })) }), 0o644);

  const sasl = hub.submission !== undefined;
  const owners = [...addressOwners(mail.users.map((u) => u.address), aliases)];
  const senderLogins = table("sender-logins", sasl ? templates.render("sender-logins", { owners: owners.map(([address, login]) => ({ address, login })) }) : undefined, 0o644);
  const refuseOutsiders = (hub.outsideSenders ?? "foreign-domains") === "foreign-domains";
  const senderDomains = table("sender-domains", refuseOutsiders ? templates.render("sender-domains", { domains: mail.domains.map((d) => d.name) }) : undefined, 0o644);
  const networks = relayNetworks(host, ctx.fleet);
  const mainCf = templates.render("main.cf", {
    compatibilityLevel: hub.compatibilityLevel ?? DEFAULT_COMPATIBILITY_LEVEL,
    myhostname: hub.myhostname ?? host.fqdn,
    myorigin: pf.mailname ?? host.fqdn,
    interfaces: (hub.interfaces ?? ["all"]).join(", "),
    relayNotes: networks.notes,
    mynetworks: networks.mynetworks,
    sasl,
    senderLogins,
    senderDomains,
    vrfy: hub.vrfy === true,
    domains: mail.domains.map((d) => d.name).join(" "),
    mailboxMap: mailboxMap!,
    aliasMap: aliasMap!,
    aliasDomains: ownName && host.adminaddr ? ownName : "",
    transport: virtualTransport(host, ctx),
    lmtpBind: lmtpBind(host),
    tls: hub.tls ?? false,
    authSocket: sasl ? socketName(pf, pf.sockets.auth) : "",
    milter: ctx.links.of().milter?.address ?? "",
    extra: Object.entries(hub.mainCf ?? {}).map(([name, value]) => ({ name, value: mainCfValueText(value) })),
  });
  const port = hub.port ?? 25;
  const masterCf = templates.render("master.cf", {
    smtpService: port === 25 ? "smtp" : String(port),
    submission: sasl ? String(hub.submission?.port ?? 587) : "",
    chroot: pf.chroot ? "y" : "n",
  });
  res.push({ kind: "file", id: "postfix:main.cf", path: conf("main.cf"), content: mainCf, mode: 0o644, owner: "root", group: "root" });
  res.push({ kind: "file", id: "postfix:master.cf", path: conf("master.cf"), content: masterCf, mode: 0o644, owner: "root", group: "root" });
  res.push(...tables);
  res.push({ kind: "service", id: "postfix:service", name: pf.service, inputs: serviceInputs, onChange: "reload", check: postfixCheck(pf) });
  if (handover.park.length) res.push(handover.deliver);
  return res;
}
