// A scan host and a store host of one inventory, configured by mailfleet's
// roles and run with the real daemons of Debian's packages: OpenSMTPD 6.8
// with filter-rspamd (role opensmtpd, applied inside OpenSMTPD's mount
// namespace), rspamd 3.4 (role rspamd, local.d in a temp dir) and Dovecot 2.3
// (role dovecot, paths in a temp dir). The e2e tests of the scanning side
// share it (test/e2e/scan-delivery.test.ts, test/e2e/scan-exposed.test.ts).
//
// What it sets that real hosts would not (all through the roles' data, the
// platform or the inventory, none by editing what the roles render):
// - opensmtpd is applied with root "/" inside OpenSMTPD's namespace
//   (test/support/opensmtpd.ts), its Debian data unchanged; smtpd is started
//   by the test, so the first apply leaves out the service and later applies
//   probe it with smtpctl; packages are unpacked, not installed, and what
//   would touch this machine's service manager (systemctl daemon-reload) is
//   left out;
// - rspamd's local.d is written into a temp dir which the test's rspamd runs
//   with, its scanning worker on the port the inventory gives it;
// - the store's Dovecot paths are in a temp dir and its users are the one
//   unprivileged user it runs as (DOVECOT_USER), which is also the mail owner
//   the inventory must name (mail.owner), created inside the namespace too.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { dovecot as dovecotRole } from "../../roles/dovecot/index.ts";
import type { DovecotData } from "../../roles/dovecot/platforms.ts";
import { opensmtpd as opensmtpdRole } from "../../roles/opensmtpd/index.ts";
import { rspamd as rspamdRole } from "../../roles/rspamd/index.ts";
import { rspamdPlatforms } from "../../roles/rspamd/platforms.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { applyHost, planHost, type HostTarget } from "../../src/engine/host.ts";
import { parseInventory, type HostConfig } from "../../src/engine/inventory.ts";
import { roleResources } from "../../src/engine/roles.ts";
import { revealingResolver } from "../../src/inventory/secrets.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { Platform } from "../../src/platforms/types.ts";
import type { Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { LocalTransport } from "../../src/transports/local.ts";
import type { Transport } from "../../src/transports/types.ts";
import { DOVECOT_USER, dovecotRoleDir, maildirMessageIds, startDovecot, withTestDovecot, type Dovecot } from "./dovecot.ts";
import { startOpenSmtpd, type OpenSmtpd } from "./opensmtpd.ts";
import { freePort } from "./ports.ts";
import { RSPAMD_STOCK_CONF, startRspamd, type Rspamd } from "./rspamd.ts";

/** rspamd modules that need the network or redis, off so scores do not depend on this machine's DNS (an inventory's rspamd.disable). */
export const RSPAMD_OFFLINE = "[rbl, fuzzy_check, asn, phishing, neural, replies, url_redirector, history_redis, greylist, ratelimit, dmarc, spf, dkim]";

export interface ScanPipelinePorts {
  smtp: number;
  lmtp: number;
  rspamd: number;
}

/** What an inventory is written from: the store's dir, the ports picked, where each mailbox's password file is. */
export interface ScanInventoryInput {
  data: string;
  ports: ScanPipelinePorts;
  secret(address: string): string;
}

/**
 * The parts of the inventory every scan pipeline has, in YAML at the
 * indentation they go: `mail` the two lines under `mail:` for the mail owner
 * (DOVECOT_USER) and base, `store` the host `store` under `hosts:`.
 */
export function scanInventoryParts({ data, ports }: ScanInventoryInput): { mail: string; store: string } {
  const u = DOVECOT_USER;
  return {
    mail: `    owner: { user: ${u.user}, group: ${u.group}, uid: ${u.uid}, gid: ${u.gid} }
    base: ${data}/vmail`,
    store: `  store:
    platform: debian
    roles: [dovecot]
    address: 127.0.0.2
    dovecot:
      tls: { cert: ${data}/tls/cert.pem, key: ${data}/tls/key.pem }
      protocols: [imap]
      lmtp: { address: 127.0.0.1, port: ${ports.lmtp} }`,
  };
}

export interface ScanPipelineOptions {
  /** Temp dir prefix, e.g. "mf-scan-". */
  prefix: string;
  /** Mailbox address -> password; each is written to a secret file the inventory names with `secret(address)`. */
  passwords: Record<string, string>;
  /**
   * The inventory: a host `scan` (roles rspamd, opensmtpd, rspamd.listen on
   * 127.0.0.1:<ports.rspamd>, opensmtpd.port <ports.smtp>) and a host `store`
   * (role dovecot, dovecot.lmtp on 127.0.0.1:<ports.lmtp>, the TLS files under
   * <data>/tls), mail.owner DOVECOT_USER and mail.base <data>/vmail: see
   * scanInventoryParts.
   */
  inventory(p: ScanInventoryInput): string;
  /** More smtpd flags, e.g. ["-v"]. */
  smtpdFlags?: string[];
}

export interface ScanPipeline {
  /** The inventory and secrets' dir. */
  work: string;
  /** The store's dir (etc/, vmail/, tls/). */
  data: string;
  /** The scan host's rspamd LOCAL_CONFDIR (local.d written by the role). */
  rspamdConf: string;
  ports: ScanPipelinePorts;
  hosts: HostConfig[];
  host(name: string): HostConfig;
  smtpd: OpenSmtpd;
  rspamd: Rspamd;
  dovecot: Dovecot;
  /** Ids of what the first apply of opensmtpd changed. */
  firstApply: string[];
  timings: { rspamdStart: number; smtpdApplyAndStart: number; setup: number };
  /** opensmtpd's resources inside the namespace (withService: the service too, probed with smtpctl). */
  scanTarget(withService: boolean): HostTarget;
  rspamdTarget(): HostTarget;
  storeTarget(): HostTarget;
  /** Plans and applies a target; nothing may remain. */
  apply(t: HostTarget): Promise<Awaited<ReturnType<typeof planHost>>>;
  maildir(address: string): string;
  /** Message-IDs stored for the address, one per message. */
  ids(address: string): string[];
  /** How often the message with this Message-ID is stored for the address. */
  count(address: string, id: string): number;
  /** Messages in the address's Maildir, without reading them. */
  files(address: string): number;
  queueEmpty(): Promise<boolean>;
  /** Stops every daemon, removes every temp dir; throws the first error after trying all. */
  close(): Promise<void>;
}

/** Runs the scripts inside OpenSMTPD's mount namespace (the scan host here). */
const namespaceTransport = (exec: OpenSmtpd["exec"]): Transport => ({
  description: "opensmtpd-namespace",
  root: "",
  run: (script) => exec("/bin/sh", ["-s"], { input: script }),
});

/** Debian, with smtpd (run by the test) as the service opensmtpd: probed with smtpctl; it is never to be restarted by an apply here. */
const scanPlatform: Platform = {
  ...debian,
  serviceProbe: (svc) => (svc === "opensmtpd" ? sh`if /usr/sbin/smtpctl show status >/dev/null 2>&1; then echo running; else echo stopped; fi` : debian.serviceProbe(svc)),
  serviceRestart: (svc) => (svc === "opensmtpd" ? sh`echo "smtpd is run by the test" >&2; false` : debian.serviceRestart(svc)),
};

/** Packages are unpacked, not installed; the machine's nullmailer is not this host's to hand over; this machine's systemd is not the scan host's. */
const notHere = (r: Resource) => r.kind === "package" || r.kind === "mtaHandover" || r.kind === "parkedMail" || r.id === "opensmtpd:daemon-reload";

export async function startScanPipeline(opts: ScanPipelineOptions): Promise<ScanPipeline> {
  const t0 = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), opts.prefix));
  chmodSync(work, 0o755);
  const secret = (a: string) => path.join(work, "secrets", a);
  mkdirSync(path.join(work, "secrets"));
  for (const [a, pw] of Object.entries(opts.passwords)) writeFileSync(secret(a), `${pw}\n`, { mode: 0o600 });
  let data: string;
  let dovecotData: DovecotData;
  try {
    ({ data, dovecotData } = dovecotRoleDir(`${opts.prefix}store-`, "store.example.org"));
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  const rspamdConf = path.join(work, "rspamd");
  mkdirSync(rspamdConf, { mode: 0o755 });
  const ports: ScanPipelinePorts = { smtp: await freePort(), lmtp: await freePort(), rspamd: await freePort() };
  while (new Set(Object.values(ports)).size < 3) ports.rspamd = await freePort();
  const inventory = path.join(work, "inventory.yaml");
  writeFileSync(inventory, opts.inventory({ data, ports, secret }));
  const hosts = parseInventory(readFileSync(inventory, "utf8"), inventory).hosts;
  const host = (name: string) => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`the inventory has no host ${name}`);
    return h;
  };

  let dovecot: Dovecot | undefined;
  let rspamd: Rspamd | undefined;
  let smtpd: OpenSmtpd | undefined;
  const scanTarget = (exec: OpenSmtpd["exec"], withService: boolean): HostTarget => {
    const h = host("scan");
    const resources = roleResources(opensmtpdRole, h, { platform: scanPlatform, secrets: revealingResolver(h.inventoryDir), fleet: hosts }).filter(
      (r) => !notHere(r) && (withService || r.kind !== "service"),
    );
    return { host: h, transport: namespaceTransport(exec), ctx: hostContext(scanPlatform, ""), resources };
  };
  const rspamdTarget = (): HostTarget => {
    const h = host("scan");
    const rspamdData = { ...rspamdPlatforms.debian, confDir: RSPAMD_STOCK_CONF, localConfDir: rspamdConf };
    const resources = roleResources(rspamdRole, h, { platform: debian, data: rspamdData, secrets: revealingResolver(h.inventoryDir), fleet: hosts }).filter(
      (r) => r.kind !== "package" && r.kind !== "service",
    );
    return { host: h, transport: new LocalTransport(), ctx: hostContext(debian, ""), resources };
  };
  const storeTarget = (): HostTarget => {
    const h = host("store");
    const platform = withTestDovecot(debian, dovecotData.service, () => dovecot);
    const resources = roleResources(dovecotRole, h, { platform, data: dovecotData, secrets: revealingResolver(h.inventoryDir), fleet: hosts }).filter(
      (r) => r.kind !== "package" && (dovecot !== undefined || r.kind !== "service"),
    );
    return { host: h, transport: new LocalTransport(), ctx: hostContext(platform, ""), resources };
  };
  const apply = async (t: HostTarget) => {
    const plan = await planHost(t);
    const result = await applyHost(t, plan).catch((e: Error & { detail?: string }) => {
      throw new Error(`${e.message}\n${e.detail ?? ""}\n${smtpd?.log() ?? ""}`);
    });
    expect(result.remaining).toEqual([]);
    return plan;
  };
  const close = async () => {
    const errors: unknown[] = [];
    for (const stop of [() => smtpd?.close(), () => rspamd?.close(), () => dovecot?.close()]) {
      try {
        await stop();
      } catch (e) {
        errors.push(e);
      }
    }
    rmSync(work, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
    if (errors.length) throw errors[0];
  };

  let firstApply: string[] = [];
  const timings = { rspamdStart: 0, smtpdApplyAndStart: 0, setup: 0 };
  try {
    // The store: the dovecot role, then Dovecot from what it wrote, its LMTP on the port the inventory says.
    await apply(storeTarget());
    dovecot = await startDovecot({ config: dovecotData.config, ports: { lmtp: ports.lmtp } });
    // The scan host: rspamd's local.d, then rspamd (its hyperscan cache is kept in .deps between runs).
    await apply(rspamdTarget());
    const t1 = Date.now();
    rspamd = await startRspamd({ localConfDir: rspamdConf, ports: { normal: ports.rspamd } });
    timings.rspamdStart = Date.now() - t1;
    // opensmtpd applied inside its namespace, then smtpd started from /etc/smtpd.conf as the role wrote it.
    const t2 = Date.now();
    smtpd = await startOpenSmtpd({
      config: "/etc/smtpd.conf",
      mailname: "scan.example.org",
      flags: opts.smtpdFlags,
      configure: async (exec) => {
        firstApply = (await apply(scanTarget(exec, false))).changes.map((c) => c.id);
      },
    });
    timings.smtpdApplyAndStart = Date.now() - t2;
    timings.setup = Date.now() - t0;
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
  const running = { smtpd, rspamd, dovecot };
  const maildir = (a: string) => path.join(data, "vmail", a.split("@")[1]!, a.split("@")[0]!, "Maildir");
  const ids = (a: string) => (existsSync(maildir(a)) ? maildirMessageIds(maildir(a)) : []);
  return {
    work,
    data,
    rspamdConf,
    ports,
    hosts,
    host,
    ...running,
    firstApply,
    timings,
    scanTarget: (withService) => scanTarget(running.smtpd.exec, withService),
    rspamdTarget,
    storeTarget,
    apply,
    maildir,
    ids,
    count: (a, id) => ids(a).filter((m) => m === id).length,
    files: (a) => ["new", "cur"].reduce((n, d) => n + (existsSync(path.join(maildir(a), d)) ? readdirSync(path.join(maildir(a), d)).length : 0), 0),
    queueEmpty: async () => (await running.smtpd.queue()).length === 0,
    close,
  };
}
