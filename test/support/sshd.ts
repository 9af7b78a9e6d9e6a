// A real OpenSSH server (Debian's /usr/sbin/sshd) for the tests and the
// benchmark: its own config, host key and user key in a temp dir, listening on
// 127.0.0.1 on ports picked at run time. Logins are as root with the generated
// key only. sshd logs at VERBOSE, so the tests count connections and sessions
// from the server's side.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { alive, stopProcess } from "./daemon.ts";
import { freePort } from "./ports.ts";
import { poll } from "./wait.ts";

export interface SshdOptions {
  /** Environment of every session (sshd's SetEnv), e.g. PATH with the stand-ins. */
  env?: Record<string, string>;
  /** More ports to listen on; `config` may add `Match LocalPort` blocks for them. */
  extraPorts?: number;
  /** Lines appended to sshd_config (Match blocks go here), given all ports. */
  config?: (ports: number[]) => string[];
}

export interface SessionCounts {
  /** Connections authenticated (one per handshake). */
  connections: number;
  /** Sessions started: one per remote command, multiplexed or not. */
  sessions: number;
  /** Connections that have ended. */
  disconnected: number;
}

export interface Sshd {
  port: number;
  ports: number[];
  dir: string;
  /** The user key the server accepts, and a known_hosts file holding the server's key for every port. */
  clientKey: string;
  knownHosts: string;
  hostPublicKey: string;
  logFile: string;
  /** Inventory transport settings for a host reached through this server. */
  transport(extra?: Record<string, unknown>): Record<string, unknown>;
  /** What sshd logged since the last mark (or since start). */
  counts(): SessionCounts;
  mark(): void;
  stop(): Promise<void>;
}

const SSHD = "/usr/sbin/sshd";


async function keygen(file: string, comment: string): Promise<void> {
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

function countIn(log: string): SessionCounts {
  const n = (re: RegExp) => (log.match(re) ?? []).length;
  return {
    connections: n(/^Accepted publickey for /gm),
    sessions: n(/^Starting session: /gm),
    disconnected: n(/^Disconnected from user /gm),
  };
}

/** Whether sshd says it listens on every port; false when it exited, could not bind one, or said neither within 30 s. */
async function waitForListening(logFile: string, child: ChildProcess, ports: number[]): Promise<boolean> {
  let listening = false;
  await poll(() => {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    listening = ports.every((p) => log.includes(`Server listening on 127.0.0.1 port ${p}.`));
    return listening || !alive(child) || /Bind to port .* failed|Cannot bind any address/.test(log);
  }, 30_000, 50);
  return listening && alive(child);
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  // sshd refuses to start without its privilege separation directory (normally made by its service unit).
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  const dir = mkdtempSync("/tmp/mf-sshd-");
  const hostKey = path.join(dir, "host_ed25519");
  const clientKey = path.join(dir, "id_ed25519");
  await keygen(hostKey, "mailfleet-test-host");
  await keygen(clientKey, "mailfleet-test-user");
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(`${clientKey}.pub`));
  const hostPublicKey = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  const logFile = path.join(dir, "sshd.log");
  const knownHosts = path.join(dir, "known_hosts");

  for (let attempt = 0; ; attempt++) {
    const ports: number[] = [];
    while (ports.length < 1 + (opts.extraPorts ?? 0)) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    // SHLVL=1 keeps root's login shell (bash) from reading ~/.bashrc for every
    // command: the rc files of the machine running the tests are not what we measure.
    const env = { SHLVL: "1", ...opts.env };
    const config = [
      ...ports.map((p) => `Port ${p}`),
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "LogLevel VERBOSE",
      // Fleet-sized bursts of handshakes: the defaults (10:30:100, 10) would drop some.
      "MaxStartups 1000",
      "MaxSessions 100",
      "PrintMotd no",
      `SetEnv ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}`,
      ...(opts.config?.(ports) ?? []),
    ];
    writeFileSync(path.join(dir, "sshd_config"), `${config.join("\n")}\n`);
    rmSync(logFile, { force: true });
    const child = spawn(SSHD, ["-D", "-f", path.join(dir, "sshd_config"), "-E", logFile], { stdio: "ignore" });
    if (!(await waitForListening(logFile, child, ports))) {
      await stopProcess(child);
      // Another process took a port between the probe and the bind: try new ones.
      if (attempt < 5) continue;
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start:\n${log}`);
    }
    writeFileSync(knownHosts, ports.map((p) => `[127.0.0.1]:${p} ${hostPublicKey}\n`).join(""));
    let offset = 0;
    const readLog = () => readFileSync(logFile, "utf8");
    return {
      port: ports[0]!,
      ports,
      dir,
      clientKey,
      knownHosts,
      hostPublicKey,
      logFile,
      transport: (extra = {}) => ({
        type: "ssh",
        address: "127.0.0.1",
        port: ports[0],
        user: "root",
        identityFile: clientKey,
        options: { UserKnownHostsFile: knownHosts },
        ...extra,
      }),
      counts: () => countIn(readLog().slice(offset)),
      mark: () => {
        offset = readLog().length;
      },
      stop: async () => {
        await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

export { freePort };
