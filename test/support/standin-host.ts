// A stand-in SmartOS zone or FreeBSD jail on this machine
// (test/fixtures/standin-host): a directory whose upper/ is what the host's
// /etc, /usr, /var, /opt and /home gained, entered by enter.sh (a private
// mount namespace with overlays), with the platform's tools as recording
// stand-ins that log each call to /var/standin/calls.log.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "./cli.ts";

export const STANDIN_HOST = path.join(REPO, "test/fixtures/standin-host");

export type StandinPlatform = "smartos" | "freebsd";

/** The calls each plan's probe makes (they only read): left out of calls(). */
const PROBES: Record<StandinPlatform, RegExp> = { smartos: /^(svcs|pkg_info|zfs get)/, freebsd: /^pkg query/ };

export interface StandinHostOptions {
  /** The directory (default: a new temp dir). */
  dir?: string;
  /** Packages recorded as installed (their files are the test's to lay down). */
  installed?: string[];
  /** The version of the nullmailer package (default packages.table's). */
  nullmailerVersion?: string;
  /** The nullmailer-inject the nullmailer package brings (default Debian's). */
  inject?: string;
}

export interface StandinHost {
  dir: string;
  /** The environment that makes a local transport's shell this host's (MAILFLEET_LOCAL_SHELL). */
  env: Record<string, string>;
  /** Where `p` (relative to the host's /) lands on this machine. */
  upper(p: string): string;
  read(p: string): string;
  /** Writes `text` at `p` in the host (its directories created). */
  writeFile(p: string, text: string): void;
  /** The stand-ins' calls since the last resetCalls(), the probes' left out. */
  calls(): string[];
  resetCalls(): void;
  /** Runs a sh script inside the host; its stdout. */
  run(script: string): string;
}

export function standinHost(platform: StandinPlatform, opts: StandinHostOptions = {}): StandinHost {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), `mf-${platform}-`));
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, ...(opts.inject ? { NULLMAILER_INJECT: opts.inject } : {}), ...(opts.nullmailerVersion ? { NULLMAILER_VERSION: opts.nullmailerVersion } : {}) };
  execFileSync(path.join(STANDIN_HOST, "install.sh"), [platform, dir, ...(opts.installed ?? [])], { env });
  const enter = path.join(STANDIN_HOST, "enter.sh");
  const upper = (p: string) => path.join(dir, "upper", p);
  const log = upper("var/standin/calls.log");
  return {
    dir,
    env: { MAILFLEET_LOCAL_SHELL: `${enter} ${dir}` },
    upper,
    read: (p) => readFileSync(upper(p), "utf8"),
    writeFile(p, text) {
      mkdirSync(path.dirname(upper(p)), { recursive: true });
      writeFileSync(upper(p), text);
    },
    calls: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l && !PROBES[platform].test(l)),
    resetCalls: () => writeFileSync(log, ""),
    run: (script) => execFileSync(enter, [dir, "-c", script], { encoding: "latin1" }),
  };
}

/**
 * A stand-in host with an inventory (`inv`, in its directory) of one host
 * `name` of `platform` with the nullmailer role, relaying to
 * relay.example.org:587 with STARTTLS; `settings` (more of the host's keys,
 * YAML lines indented under it) follow. `write(settings)` rewrites it.
 */
export function nullmailerStandin(platform: StandinPlatform, name: string, settings: string, opts: StandinHostOptions = {}) {
  const host = standinHost(platform, opts);
  const inv = path.join(host.dir, "inventory.yaml");
  const write = (extra: string) =>
    writeFileSync(
      inv,
      `hosts:
  ${name}:
    platform: ${platform}
    roles: [nullmailer]
    domain: example.org
    adminaddr: root@example.org
    relay: { host: relay.example.org, port: 587, tls: starttls }
${extra}`,
    );
  write(settings);
  return { ...host, inv, write };
}
