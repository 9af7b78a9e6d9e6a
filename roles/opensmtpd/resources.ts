// The opensmtpd role's desired state on one host.
import path from "node:path";
import type { FileResource, Resource } from "../../src/resources/types.ts";
import { hostPath, sh, type Sh } from "../../src/shell/builder.ts";
import { mailOf } from "../lib/mail/model.ts";
import { requiredAliases } from "../lib/mail/required.ts";
import { relayNetworks } from "../lib/mail/networks.ts";
import { mtaSwitch } from "../lib/mta/handover.ts";
import { roleTemplates } from "../templates.ts";
import type { Links, RoleContext, RoleHost } from "../types.ts";
import type { OpensmtpdData } from "./platforms.ts";
import { opensmtpdQueue } from "./queue.ts";
import { messageSizeBytes, type opensmtpdSections } from "./schema.ts";

export const templates = roleTemplates("opensmtpd");

type ScanHost = RoleHost<typeof opensmtpdSections>;

/** Every IPv4 and IPv6 address. */
export const DEFAULT_LISTEN = ["0.0.0.0", "::"] as const;
/** OpenSMTPD's own max-message-size. */
export const DEFAULT_MAX_MESSAGE_SIZE = "35M";

/** The addresses smtpd listens on. */
export const listenAddresses = (host: ScanHost): readonly string[] => host.opensmtpd?.listen ?? DEFAULT_LISTEN;

/** The scan host's own names, whose postmaster it must take too (smtpd completes a bare "postmaster" with the fqdn, /etc/mailname). */
export const ownNames = (host: ScanHost): string[] => [...new Set([host.fqdn, host.opensmtpd?.hostname ?? host.fqdn])];

/** Where filter-rspamd asks the scanner: opensmtpd.rspamdUrl, else the HTTP endpoint of this host's scanner; undefined when neither says (an error at validate). */
export function rspamdUrl(host: ScanHost, links: Links): string | undefined {
  return host.opensmtpd?.rspamdUrl ?? links.of().scanner?.url;
}

/** The outbound relay from the host's `relay:` (none: straight to each domain's MX). */
function relayUrl(host: ScanHost): { url: string; noVerify: boolean } | undefined {
  const r = host.relay;
  if (!r) return undefined;
  const scheme = r.tls === "tls" ? "smtps" : r.tls === "starttls" ? "smtp+tls" : "smtp";
  const h = r.host.includes(":") ? `[${r.host}]` : r.host;
  return { url: `${scheme}://${h}${r.port ? `:${r.port}` : ""}`, noVerify: r.insecure === true && r.tls !== undefined && r.tls !== "none" };
}

/** `smtpd -n -f` accepts the config (tables, certificate and key included) before any restart. */
export function opensmtpdCheck(os: OpensmtpdData, tls: { cert: string; key: string } | undefined): Sh {
  const files = tls ? sh`for mf_f in ${hostPath(tls.cert)} ${hostPath(tls.key)}; do [ -f "$mf_f" ] || { echo "opensmtpd: $mf_f (opensmtpd.tls) is missing" >&2; mf_ok=1; }; done; ` : sh``;
  return sh`mf_ok=0; ${files}[ "$mf_ok" -eq 0 ] && { mf_sc=$(${os.smtpd} -n -f ${os.config} 2>&1) || { printf '%s\\n' "$mf_sc" >&2; false; }; }`;
}

export function opensmtpdResources(host: ScanHost, ctx: RoleContext<OpensmtpdData>): Resource[] {
  const os = ctx.data;
  const cfg = host.opensmtpd ?? {};
  const mail = mailOf(host.mail);
  const name = cfg.hostname ?? host.fqdn;
  const table = (t: string) => path.posix.join(os.tableDir, t);
  const res: Resource[] = [];
  const file = (id: string, p: string, content: string, extra: Partial<FileResource> = {}) =>
    res.push({ kind: "file", id: `opensmtpd:${id}`, path: p, content, mode: 0o644, owner: "root", group: "root", ...extra });

  // Another MTA's queue is parked before OpenSMTPD's package goes in (on Debian installing it removes the other) and delivered through it once it runs.
  const handover = mtaSwitch(ctx.platform, opensmtpdQueue(os), ctx.otherMtas, "opensmtpd");
  res.push(...handover.park);
  res.push({ kind: "package", id: "opensmtpd:package", name: os.package, state: "present", debconf: os.debconfMailname && `${os.debconfMailname} ${host.fqdn}` });
  const scan = (cfg.filter ?? "rspamd") === "rspamd";
  if (scan) res.push({ kind: "package", id: "opensmtpd:package-filter", name: os.filterPackage, state: "present" });
  if (os.awkPackage) res.push({ kind: "package", id: "opensmtpd:package-awk", name: os.awkPackage, state: "present" });
  // mail.lmtp runs as the mail owner (the virtual table maps every mailbox to it); it keeps nothing in its home here
  const { owner } = mail;
  res.push({ kind: "account", id: "opensmtpd:mail-owner", user: owner.user, uid: owner.uid, group: owner.group, gid: owner.gid, home: os.deliveryHome });
  const serviceInputs = ["opensmtpd:smtpd.conf"];
  if (os.mailname) {
    file("mailname", os.mailname, `${host.fqdn}\n`);
    serviceInputs.push("opensmtpd:mailname");
  }
  if (os.mailerConf) file("mailer.conf", os.mailerConf, templates.render("mailer.conf", { smtpctl: os.smtpctl, makemap: os.makemap ?? "/usr/bin/true" }));

  res.push({ kind: "directory", id: "opensmtpd:tables", path: os.tableDir, mode: 0o755, owner: "root", group: "root" });
  const tables = {
    domains: table("domains"),
    recipients: table("recipients"),
    vusers: table("vusers"),
    relayClients: table("relay-clients"),
    localAliases: table("local-aliases"),
    servedSenders: table("served-senders"),
  };
  // postmaster of every served domain (and of this host's names) reaches a mailbox: adminaddr where mail: names none
  const aliases = [...mail.domains.flatMap((d) => d.aliases), ...requiredAliases(mail, host.adminaddr, ownNames(host), ["postmaster"])];
  file("domains", tables.domains, templates.render("domains", { domains: mail.domains.map((d) => d.name) }));
  file("recipients", tables.recipients, templates.render("recipients", { recipients: [...mail.users.map((u) => u.address), ...aliases.map((a) => a.address)].sort() }));
  file(
    "vusers",
    tables.vusers,
    templates.render("vusers", {
      owner: owner.user,
      // a list of targets without spaces: smtpd reads "a, b" as a broken address
      entries: [...mail.users.map((u) => ({ key: u.address, value: owner.user })), ...aliases.map((a) => ({ key: a.address, value: a.targets.join(",") }))],
    }),
  );
  const networks = relayNetworks(host, ctx.fleet, { networks: cfg.networks ?? [], label: "opensmtpd.networks" });
  file("relay-clients", tables.relayClients, templates.render("relay-clients", networks));
  file("local-aliases", tables.localAliases, templates.render("local-aliases", { adminaddr: host.adminaddr ?? "" }));
  const tableIds = ["domains", "recipients", "vusers", "relay-clients", "local-aliases"];
  // outsiders giving a served domain in MAIL FROM are refused, unless the inventory lets them
  const refuseServedSenders = cfg.outsideServedSenders !== true;
  if (refuseServedSenders) {
    file("served-senders", tables.servedSenders, templates.render("served-senders", { domains: mail.domains.map((d) => d.name) }));
    tableIds.push("served-senders");
  }
  // the guard filter (templates/guard.awk.hbs): SIZE= at MAIL FROM, and the lines filter-rspamd gets
  const guardFile = table("guard.awk");
  file("guard.awk", guardFile, templates.render("guard.awk", {}));
  serviceInputs.push("opensmtpd:guard.awk");
  const maxSize = messageSizeBytes(cfg.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
  const guard = [...os.awk, "-v", `size_max=${maxSize}`, ...(scan ? ["-v", "scan=1", "-v", `line_max=${os.filterLineMax}`] : []), "-f", guardFile].join(" ");

  const ep = cfg.store === undefined ? undefined : ctx.links.of(cfg.store).mailStore?.lmtp;
  if (!cfg.store || !ep?.address) throw new Error(`scan host ${host.name}: the address of its store ${cfg.store ?? "(opensmtpd.store)"} is unknown`);
  const tls = os.starttls === true ? cfg.tls : undefined;
  const url = scan ? rspamdUrl(host, ctx.links) : undefined;
  if (scan && !url) throw new Error(`scan host ${host.name}: no rspamd to scan with (opensmtpd.rspamdUrl)`);
  const conf = templates.render("smtpd.conf", {
    name,
    tls: tls ?? false,
    tables,
    filter: url ? { program: os.filterRspamd, url } : false,
    guard,
    maxSize,
    servedSenders: refuseServedSenders,
    chain: ["guard", ...(refuseServedSenders ? ["fleet-senders", "served-senders"] : []), ...(url ? ["rspamd"] : [])].map((f) => `"${f}"`).join(", "),
    listen: listenAddresses(host),
    port: cfg.port ?? 25,
    store: { host: cfg.store, endpoint: `${ep.address.includes(":") ? `[${ep.address}]` : ep.address}:${ep.port}` },
    relay: relayUrl(host) ?? false,
    adminaddr: host.adminaddr ?? "",
    relayNotes: networks.notes,
  });
  file("smtpd.conf", os.config, conf);

  // smtpd reads file tables at start; a changed one is reloaded in place (a new user restarts nothing)
  res.push({
    kind: "command",
    id: "opensmtpd:update-tables",
    description: `smtpctl update table ${tableIds.join(" ")}`,
    command: sh`mf_up=0; if ${os.smtpctl} show status >/dev/null 2>&1; then for mf_t in ${tableIds}; do ${os.smtpctl} update table "$mf_t" >/dev/null || mf_up=1; done; fi; [ "$mf_up" -eq 0 ]`,
    inputs: tableIds.map((t) => `opensmtpd:${t}`),
    sources: [],
    creates: [],
  });
  // Whatever an outsider sends, smtpd should not stop; where systemd runs it, it is restarted if it does
  if (os.restartDropIn) {
    file("restart-drop-in", os.restartDropIn, templates.render("restart-drop-in", { service: os.service }));
    res.push({
      kind: "command",
      id: "opensmtpd:daemon-reload",
      description: "systemctl daemon-reload (the restart drop-in)",
      command: sh`if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi`,
      inputs: ["opensmtpd:restart-drop-in"],
      sources: [],
      creates: [],
    });
  }
  res.push({ kind: "service", id: "opensmtpd:service", name: os.service, inputs: serviceInputs, onChange: "restart", check: opensmtpdCheck(os, tls) });
  if (handover.park.length) res.push(handover.deliver);
  return res;
}
