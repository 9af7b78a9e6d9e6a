// rspamd 3.4 from the unpacked Debian package (.deps/rspamd), with the
// package's stock config as CONFDIR and the caller's LOCAL_CONFDIR (the dir
// holding local.d/ and override.d/: what a role writes into /etc/rspamd on a
// host). It runs as an unprivileged user (rspamd refuses to run its workers
// as root without -u/-g) in a mount namespace with the package over /usr, so
// /usr/lib/rspamd, /usr/share/rspamd (rules, lualib, plugins, languages) are
// where the binaries look for them.
//
// The top-level file is the stock rspamd.conf with one more include after
// each override.d include: test-overrides/<file> at priority 15 (above
// override.d's 10), which binds every worker to 127.0.0.1 on a port picked at
// run time and moves hs_cache_dir to .deps/rspamd-cache. Compiling the
// hyperscan databases takes a while on the first start; the cache survives
// between runs (it is keyed by the regexps, so a changed config just adds files).
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "./cli.ts";
import { firstStart, untilReady } from "./daemon.ts";
import { namespaceDaemon, openDaemonNamespace, openNamespace, unprivileged, type RunAs, type ToolResult } from "./namespace.ts";
import { freePort } from "./ports.ts";

export const RSPAMD_ROOT = path.join(REPO, ".deps/rspamd");
export const RSPAMD_USER: RunAs = unprivileged();

/** Whether others may pass every directory down to `p` (not so for a checkout inside a 0700 directory, as mktemp -d makes). */
function othersReach(p: string): boolean {
  for (let d = path.dirname(p); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (path.dirname(d) === d) return true;
  }
}

/**
 * Where rspamd, running as RSPAMD_USER, reads the stock config and keeps its
 * hyperscan cache: in the checkout when that user can reach it; otherwise a
 * copy under /var/tmp, which the isolated test run overlays (so nothing is left).
 */
const RSPAMD_SHARED = ((): { conf: string; cache: string } => {
  const conf = path.join(RSPAMD_ROOT, "etc/rspamd");
  if (othersReach(conf)) return { conf, cache: path.join(REPO, ".deps/rspamd-cache") };
  const base = path.join("/var/tmp", `mailfleet-rspamd-${process.getuid?.() ?? 0}`);
  mkdirSync(base, { recursive: true, mode: 0o755 });
  chmodSync(base, 0o755);
  const copy = path.join(base, "etc-rspamd");
  if (!existsSync(copy)) {
    cpSync(conf, `${copy}.${process.pid}`, { recursive: true });
    renameSync(`${copy}.${process.pid}`, copy);
  }
  return { conf: copy, cache: path.join(base, "cache") };
})();
export const RSPAMD_STOCK_CONF = RSPAMD_SHARED.conf;
export const RSPAMD_CACHE = RSPAMD_SHARED.cache;

const WORKERS = ["normal", "controller", "proxy", "fuzzy"] as const;
type Worker = (typeof WORKERS)[number];

/** Modules that reach out to the network (DNS lists, rspamd.com fuzzy storage, map downloads) or want redis. */
const OFFLINE_DISABLED = ["rbl", "fuzzy_check", "asn", "phishing", "greylist", "ratelimit", "neural", "replies", "url_redirector", "history_redis"];

/**
 * Writes a LOCAL_CONFDIR for smoke tests into `dir`: local.d files that turn
 * off the modules needing the network or redis (so scores do not depend on
 * the machine's DNS), plus the caller's `files` (e.g. {"local.d/actions.conf": "..."}).
 * Returns `dir`, made readable for RSPAMD_USER (mkdtemp makes 0700 dirs).
 */
export function writeRspamdLocalConf(dir: string, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const all: Record<string, string> = Object.fromEntries(OFFLINE_DISABLED.map((m) => [`local.d/${m}.conf`, "enabled = false;\n"]));
  for (const [f, text] of Object.entries({ ...all, ...files })) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

export interface RspamdOptions {
  /** LOCAL_CONFDIR (local.d/, override.d/); default: a fresh writeRspamdLocalConf(). */
  localConfDir?: string;
  /** CONFDIR; default the package's stock etc/rspamd. */
  confDir?: string;
  /** Wait until the hyperscan databases are compiled and loaded (default true; false: return once the workers answer). */
  waitForHyperscan?: boolean;
  /** Ports for some workers (e.g. {normal: 11333}, the one an MTA's filter was given); the others are picked at run time. */
  ports?: Partial<Record<Worker, number>>;
}

export interface RspamdScan {
  action: string;
  score: number;
  symbols: string[];
  messages: Record<string, string>;
}

export interface Rspamd {
  dir: string;
  /** The normal (scanning) worker: filter-rspamd's -url, rspamc -h. */
  port: number;
  url: string;
  controllerPort: number;
  proxyPort: number;
  /** The top-level config rspamd runs with, and the --var definitions that go with it. */
  configFile: string;
  vars: Record<string, string>;
  logFile: string;
  /** Milliseconds the last start() took until the normal worker answered /ping, and until hyperscan was loaded. */
  timings: { ping: number; hyperscan: number | undefined };
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  running(): boolean;
  /** Scans a message through the normal worker's /checkv2 (as an MTA would, from `ip`). */
  scan(message: string, envelope?: { from?: string; rcpts?: string[]; ip?: string }): Promise<RspamdScan>;
  /** rspamc -h 127.0.0.1:<port> ARGS (message on stdin when given). */
  rspamc(args: string[], input?: string): Promise<ToolResult>;
  /** rspamadm configtest of this instance's config. */
  configtest(): Promise<ToolResult>;
  log(): string;
  close(): Promise<void>;
}

/** The stock top-level config with a test-overrides include after every override.d include. */
function topLevel(confDir: string): string {
  const stock = readFileSync(path.join(confDir, "rspamd.conf"), "utf8");
  return stock.replace(
    /^(\s*)\.include\(try=true; priority=10\) "\$LOCAL_CONFDIR\/override\.d\/([^"]+)"\s*$/gm,
    (line, indent: string, file: string) => `${line}\n${indent}.include(try=true; priority=15) "$TESTDIR/${file}"`,
  );
}

function varArgs(vars: Record<string, string>): string[] {
  return Object.entries(vars).map(([k, v]) => `--var=${k}=${v}`);
}

function prepare(dir: string, opts: RspamdOptions, ports?: Record<Worker, number>) {
  const u = RSPAMD_USER;
  const confDir = opts.confDir ?? RSPAMD_STOCK_CONF;
  const localConfDir = opts.localConfDir ?? writeRspamdLocalConf(path.join(dir, "local"));
  const vars: Record<string, string> = {
    CONFDIR: confDir,
    LOCAL_CONFDIR: localConfDir,
    DBDIR: path.join(dir, "db"),
    RUNDIR: path.join(dir, "run"),
    LOGDIR: path.join(dir, "log"),
    TESTDIR: path.join(dir, "test-overrides"),
  };
  for (const d of [dir, vars.DBDIR!, vars.RUNDIR!, vars.LOGDIR!, vars.TESTDIR!, RSPAMD_CACHE]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, u.uid, u.gid);
  }
  const configFile = path.join(dir, "rspamd.conf");
  writeFileSync(configFile, topLevel(confDir));
  const t = vars.TESTDIR!;
  writeFileSync(path.join(t, "options.inc"), `hs_cache_dir = "${RSPAMD_CACHE}/";\n`);
  if (ports) for (const w of WORKERS) writeFileSync(path.join(t, `worker-${w}.inc`), `bind_socket = "127.0.0.1:${ports[w]}";\n`);
  return { configFile, vars };
}

/** `rspamadm configtest` of the config start() would run (stock CONFDIR unless given, the caller's LOCAL_CONFDIR). */
export async function rspamadmConfigtest(opts: { localConfDir: string; confDir?: string }): Promise<ToolResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-rspamadm-"));
  try {
    const { configFile, vars } = prepare(dir, opts);
    const ns = await openNamespace(path.join(dir, "ns"), { packages: [RSPAMD_ROOT] });
    try {
      return await ns.exec("/usr/bin/rspamadm", [...varArgs(vars), "configtest", "-c", configFile], { runAs: RSPAMD_USER });
    } finally {
      await ns.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startRspamd(opts: RspamdOptions = {}): Promise<Rspamd> {
  const u = RSPAMD_USER;
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-rspamd-"));
  const ports = {} as Record<Worker, number>;
  for (const w of WORKERS) {
    let p = opts.ports?.[w] ?? (await freePort());
    while (Object.values(ports).includes(p)) p = await freePort();
    ports[w] = p;
  }
  const { configFile, vars } = prepare(dir, opts, ports);
  const logFile = path.join(vars.LOGDIR!, "rspamd.log");
  const outFile = path.join(dir, "rspamd.out");
  const ns = await openDaemonNamespace(dir, { packages: [RSPAMD_ROOT] });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  const log = () => `${read(outFile)}${read(logFile)}`;
  const url = `http://127.0.0.1:${ports.normal}`;
  const ping = async (port: number) => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
      return (await r.text()).trim() === "pong";
    } catch {
      return false;
    }
  };
  const timings: Rspamd["timings"] = { ping: 0, hyperscan: undefined };
  let logStart = 0;
  let t0 = 0;
  const daemon = namespaceDaemon(
    ns,
    dir,
    () => {
      logStart = read(logFile).length;
      t0 = Date.now();
      return ns.spawn("/usr/bin/rspamd", ["-f", "-c", configFile, ...varArgs(vars)], { logFile: outFile, runAs: u });
    },
    async (started) => {
      await untilReady(started, {
        name: "rspamd",
        what: "rspamd's normal and controller workers",
        ready: async () => (await ping(ports.normal)) && (await ping(ports.controller)),
        timeoutMs: 120_000,
        log,
      });
      timings.ping = Date.now() - t0;
      timings.hyperscan = undefined;
      if (opts.waitForHyperscan ?? true) {
        await untilReady(started, {
          name: "rspamd",
          what: "rspamd's hyperscan databases",
          ready: () => /full hyperscan database of \d+ regexps has been loaded/.test(read(logFile).slice(logStart)),
          timeoutMs: 180_000,
          log,
        });
        timings.hyperscan = Date.now() - t0;
      }
    },
  );
  const instance: Rspamd = {
    dir,
    port: ports.normal,
    url,
    controllerPort: ports.controller,
    proxyPort: ports.proxy,
    configFile,
    vars,
    logFile,
    timings,
    start: daemon.start,
    stop: daemon.stop,
    restart: daemon.restart,
    running: daemon.running,
    async scan(message, env = {}) {
      const headers: Record<string, string> = { IP: env.ip ?? "127.0.0.1" };
      if (env.from) headers.From = env.from;
      const body = await (await fetch(`${url}/checkv2`, { method: "POST", body: message, headers: { ...headers, ...(env.rcpts?.length ? { Rcpt: env.rcpts.join(",") } : {}) } })).json();
      const r = body as { action: string; score: number; symbols?: Record<string, unknown>; messages?: Record<string, string> };
      return { action: r.action, score: r.score, symbols: Object.keys(r.symbols ?? {}).sort(), messages: r.messages ?? {} };
    },
    rspamc: (args, input) => ns.exec("/usr/bin/rspamc", ["-h", `127.0.0.1:${ports.normal}`, ...args], { input, runAs: u }),
    configtest: () => ns.exec("/usr/bin/rspamadm", [...varArgs(vars), "configtest", "-c", configFile], { runAs: u }),
    log,
    close: daemon.close,
  };
  return firstStart(instance);
}
