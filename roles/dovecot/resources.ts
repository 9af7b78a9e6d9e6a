// The dovecot role's desired state on one host.
import type { Resource } from "../../src/resources/types.ts";
import path from "node:path";
import { hostPath, sh, type Sh } from "../../src/shell/builder.ts";
import { mailOf } from "../lib/mail/model.ts";
import type { MailUser } from "../lib/mail/model.ts";
import { givenHashProblem, MASKED_HASH, PASSWORD_SCHEME, PasswordError, passwordHashes } from "../lib/mail/passwords.ts";
import { roleTemplates } from "../templates.ts";
import type { RoleContext, RoleHost } from "../types.ts";
import { canonicalAddress, LMTP_CLIENT_FORMAT, lmtpClientKey, lmtpClients, lmtpEndpoint, LOCAL_LMTP_KEY } from "./lmtp.ts";
import type { DovecotData } from "./platforms.ts";
import { AUTH_LIMIT_DEFAULTS, DOVECOT_PROTOCOLS, type AuthLimits, type dovecotSections } from "./schema.ts";

export const templates = roleTemplates("dovecot");

type DovecotHost = RoleHost<typeof dovecotSections>;

/** Hides the hash field of every passwd-file line, for diffs. */
export function maskPasswdFile(text: string): string {
  return text
    .split("\n")
    .map((line) => (/^\s*(#|$)/.test(line) ? line : line.replace(/^([^:]*:)[^:]*/, "$1********")))
    .join("\n");
}

/** doveconf -n accepts the config without a warning, and the TLS files it names are there: run before any reload. */
export function dovecotCheck(dv: DovecotData, tls: { cert: string; key: string }): Sh {
  return sh`mf_ok=0; for mf_f in ${hostPath(tls.cert)} ${hostPath(tls.key)}; do [ -f "$mf_f" ] || { echo "dovecot: $mf_f (dovecot.tls) is missing" >&2; mf_ok=1; }; done
[ "$mf_ok" -eq 0 ] && { mf_dc=$(${dv.doveconf} -n -c ${dv.config} 2>&1 >/dev/null); mf_rc=$?; [ -z "$mf_dc" ] || printf '%s\\n' "$mf_dc" >&2; [ "$mf_rc" -eq 0 ] && [ -z "$mf_dc" ]; }`;
}

/** The bounds on failed logins a host gets: its dovecot.authLimits over the defaults; undefined when off. */
export function authLimitsOf(cfg: { authLimits?: false | Partial<AuthLimits> } | undefined): AuthLimits | undefined {
  if (cfg?.authLimits === false) return undefined;
  return { ...AUTH_LIMIT_DEFAULTS, ...cfg?.authLimits };
}

/**
 * The override_fields value that lets a login through only over TLS (rules at the passdb in
 * dovecot.conf.hbs): allow_nets is the client's own address where the connection is secure,
 * else `local`, which no client with an address matches.
 */
export function tlsOnlyNets(localPlaintext: boolean): string {
  const pass = "%{rip},local";
  if (localPlaintext) return `%{if;%{secured};ne;;${pass};local}`;
  return `%{if;%{secured};eq;TLS;${pass};%{if;%{service}/%{secured};eq;smtp/secured;${pass};local}}`;
}

export function dovecotResources(host: DovecotHost, ctx: RoleContext<DovecotData>): Resource[] {
  const dv = ctx.data;
  const cfg = host.dovecot ?? {};
  const mail = mailOf(host.mail);
  const tls = cfg.tls!;
  const protocols = cfg.protocols ?? [...DOVECOT_PROTOCOLS];
  const res: Resource[] = [];
  // the rules refused a host whose Dovecot has no Lua passdb, unless authLimits is false
  const limits = "packages" in dv.lua ? authLimitsOf(cfg) : undefined;
  const limitsFile = path.posix.join(path.posix.dirname(dv.config), "auth-limits.lua");

  const packages = [...dv.packages, ...(limits && "packages" in dv.lua ? dv.lua.packages : [])];
  for (const p of packages) res.push({ kind: "package", id: `dovecot:package-${p}`, name: p, state: "present" });
  const { owner } = mail;
  res.push({ kind: "account", id: "dovecot:mail-owner", user: owner.user, uid: owner.uid, group: owner.group, gid: owner.gid, home: mail.base });
  // a changed mail.base moves the mailboxes there, before the passwd-file (which says where they are now) is rewritten
  res.push({ kind: "mailStoreMove", id: "dovecot:mail-store", base: mail.base, homes: { file: dv.passwdFile, field: 6 }, service: dv.service, mode: 0o750, owner: owner.user, group: owner.group });
  res.push({ kind: "directory", id: "dovecot:mail-base", path: mail.base, mode: 0o750, owner: owner.user, group: owner.group });

  // Who delivers here: the MTA on this host over the socket it asks for, MTAs of other hosts over TCP.
  const here = ctx.links.of();
  const local = here.lmtpDelivery?.store === host.name ? here.lmtpDelivery.socket : undefined;
  const clients = lmtpClients(host, ctx.links);
  const endpoint = lmtpEndpoint(host);
  const lmtpInet = clients.length > 0 || cfg.lmtp ? endpoint : undefined;
  const lmtpFor = [
    ...(local ? ["the MTA on this host (unix socket)"] : []),
    ...clients.map((c) => `${c.host}${c.address ? ` (${c.address})` : ""} over TCP`),
  ];
  // Over TCP only these clients may deliver: LMTP looks each recipient up under the client's key.
  const clientsFile = path.posix.join(path.posix.dirname(dv.passwdFile), "lmtp-clients");
  const known = clients.filter((c): c is { host: string; address: string } => c.address !== undefined);
  const keyed = [
    ...(local ? [{ key: LOCAL_LMTP_KEY, who: "the MTA on this host over the unix socket" }] : []),
    ...known.map((c) => ({ key: lmtpClientKey(c.address), who: `${canonicalAddress(c.address)} (${c.host})` })),
  ].filter((k, i, all) => all.findIndex((x) => x.key === k.key) === i);
  const sasl = here.saslClient?.socket;
  const conf = templates.render("dovecot.conf", {
    protocols: [...protocols, "lmtp"].join(" "),
    listen: (cfg.listen ?? ["*", "::"]).join(", "),
    user: dv.user,
    group: dv.group,
    loginUser: dv.loginUser,
    tls,
    scheme: PASSWORD_SCHEME,
    passwdFile: dv.passwdFile,
    owner,
    quota: mail.users.some((u) => u.quota !== undefined),
    imap: protocols.includes("imap"),
    pop3: protocols.includes("pop3"),
    lmtpFor: lmtpFor.join(", ") || "no MTA is known to deliver here",
    lmtpSocket: local ?? false,
    lmtpInet: lmtpInet ?? false,
    lmtpClients: lmtpInet ? { file: clientsFile, format: LMTP_CLIENT_FORMAT } : false,
    authSocket: sasl ?? false,
    limits: limits ? { ...limits, file: limitsFile } : false,
    serviceAuth: sasl !== undefined || limits !== undefined,
    tlsOnly: tlsOnlyNets(cfg.localPlaintext === true),
    localPlaintext: cfg.localPlaintext === true,
  });
  res.push({ kind: "file", id: "dovecot:dovecot.conf", path: dv.config, content: conf, mode: 0o644, owner: "root", group: "root" });
  // read by the auth process (default_internal_user) at its start: a change needs a reload
  res.push({
    kind: "file",
    id: "dovecot:auth-limits",
    path: limitsFile,
    content: limits ? templates.render("auth-limits.lua", limits) : "",
    mode: 0o644,
    owner: "root",
    group: "root",
    ...(limits ? {} : { state: "absent" as const }),
  });

  // Dovecot re-reads the passwd-file when it changes: a new user or password needs no reload.
  const hashes = ctx.secrets.masked ? mail.users.map(() => MASKED_HASH) : userHashes(mail.users, ctx);
  const users = mail.users.map((u, i) => ({
    address: u.address,
    hash: hashes[i]!,
    uid: owner.uid,
    gid: owner.gid,
    home: u.home,
    extra: u.quota ? `userdb_quota_rule=*:storage=${u.quota}` : "",
  }));
  res.push({
    kind: "file",
    id: "dovecot:passwd-file",
    path: dv.passwdFile,
    content: templates.render("users", { users }),
    mode: 0o640,
    owner: "root",
    group: dv.group,
    sensitive: true,
    mask: "dovecot:passwd-file",
  });
  res.push({
    kind: "file",
    id: "dovecot:lmtp-clients",
    path: clientsFile,
    content: lmtpInet ? templates.render("lmtp-clients", { clients: keyed.map((k) => ({ ...k, users: users.map(({ address, uid, gid, home, extra }) => ({ address, uid, gid, home, extra })) })) }) : "",
    mode: 0o640,
    owner: "root",
    group: dv.group,
    ...(lmtpInet ? {} : { state: "absent" as const }),
  });
  res.push({ kind: "keptDirs", id: "dovecot:mailboxes", base: mail.base, depth: 2, expected: mail.users.map((u) => `${u.domain}/${u.name}`), noun: ["mailbox", "mailboxes"] });
  // lmtp-clients is re-read like the passwd-file: a new client or mailbox reloads nothing.
  res.push({ kind: "service", id: "dovecot:service", name: dv.service, inputs: ["dovecot:dovecot.conf", "dovecot:auth-limits", "dovecot:mail-store"], onChange: "reload", check: dovecotCheck(dv, tls) });
  return res;
}

/** Each user's passwd-file hash: the one the inventory gives, checked, or the password's, hashed (once per new password). */
function userHashes(users: readonly MailUser[], { secrets }: Pick<RoleContext<DovecotData>, "secrets">): string[] {
  const given = users.map((u) => {
    if (u.passwordHash === undefined) return undefined;
    const hash = typeof u.passwordHash === "string" ? u.passwordHash : secrets.value(u.passwordHash).trim();
    const problem = givenHashProblem(hash);
    if (problem) throw new PasswordError(`the passwordHash of ${u.address} is refused: ${problem}`);
    return hash;
  });
  const toHash = users.flatMap((u, i) => (given[i] === undefined ? [{ i, address: u.address, password: secrets.value(u.password!) }] : []));
  const hashed = passwordHashes(toHash);
  toHash.forEach((m, k) => (given[m.i] = hashed[k]));
  return given.map((h) => h!);
}
