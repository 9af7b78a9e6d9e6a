// An outsider on a network of its own: a network namespace (held by one
// `unshare --net sleep` process, so it ends with that pid) joined to this
// machine by a veth pair. This machine's end gets `.1` (and `::1` of the IPv6
// prefix), the namespace's end the client addresses; there is no default
// route, so whatever runs inside reaches this link and nothing else. A client
// there is outside the fleet the way the internet is: another interface,
// another address family if asked, not a second loopback address.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import type { ToolResult } from "./namespace.ts";

export interface OutsideNetwork {
  /** The holder's pid: its network namespace is /proc/<pid>/ns/net. */
  readonly pid: number;
  /** This machine's addresses on the link (where daemons listen for the outsider). */
  readonly host: { v4: string; v6: string };
  /** The outsider's addresses, the first of each family its default source. */
  readonly clients: { v4: string[]; v6: string[] };
  /** argv that runs `cmd args` inside the namespace (for spawn or execa). */
  argv(cmd: string, args: string[]): [string, string[]];
  /** Runs a program inside and waits for it (stdin from `input`). */
  exec(cmd: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<ToolResult>;
  close(): Promise<void>;
}

export interface OutsideOptions {
  /** The IPv4 /24, three octets: "10.77.0" gives 10.77.0.1 here and 10.77.0.2... there. */
  v4?: string;
  /** The IPv6 /64 prefix, e.g. "fd77:0:0:0" gives fd77::1 here and fd77::2... there. */
  v6?: string;
  /** How many client addresses of each family (default 1). */
  clients?: number;
}

const run = async (cmd: string, args: string[]) => {
  const r = await execa(cmd, args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
};

export async function outsideNetwork(opts: OutsideOptions = {}): Promise<OutsideNetwork> {
  if (process.getuid?.() !== 0) throw new Error("an outside network needs root (network namespaces and veth pairs)");
  const v4 = opts.v4 ?? "10.77.0";
  const v6 = opts.v6 ?? "fd77:0:0:0";
  const n = opts.clients ?? 1;
  if (n < 1 || n > 200) throw new Error(`clients: 1..200, not ${n}`);
  const clients = {
    v4: Array.from({ length: n }, (_, i) => `${v4}.${i + 2}`),
    v6: Array.from({ length: n }, (_, i) => `${v6}:0:0:0:${(i + 2).toString(16)}`.replace(/(^|:)0(:0)+:/, "::")),
  };
  const host = { v4: `${v4}.1`, v6: `${v6}:0:0:0:1`.replace(/(^|:)0(:0)+:/, "::") };

  const holder = spawn("unshare", ["--net", "sleep", "infinity"], { stdio: "ignore" });
  const pid = holder.pid;
  if (!pid) throw new Error("unshare --net did not start");
  // the namespace exists once the holder has exec'd sleep in it
  const ns = `/proc/${pid}/ns/net`;
  const self = await execa("readlink", ["/proc/self/ns/net"]);
  for (let i = 0; ; i++) {
    const r = await execa("readlink", [ns], { reject: false });
    if (r.exitCode === 0 && r.stdout !== self.stdout) break;
    if (i >= 200 || holder.exitCode !== null) {
      holder.kill("SIGKILL");
      throw new Error("the outside network namespace did not come up");
    }
    await new Promise((r2) => setTimeout(r2, 25));
  }
  const tag = randomBytes(3).toString("hex");
  const here = `mf${tag}h`;
  const there = `mf${tag}o`;
  const inside = (cmd: string, args: string[]): [string, string[]] => ["nsenter", [`--net=${ns}`, "--", cmd, ...args]];
  const close = async () => {
    await execa("ip", ["link", "del", here], { reject: false });
    if (holder.exitCode === null && holder.signalCode === null) {
      const gone = new Promise((r) => holder.once("exit", r));
      holder.kill("SIGKILL");
      await gone;
    }
  };
  try {
    await run("ip", ["link", "add", here, "type", "veth", "peer", "name", there, "netns", String(pid)]);
    await run("ip", ["addr", "add", `${host.v4}/24`, "dev", here]);
    await run("ip", ["-6", "addr", "add", `${host.v6}/64`, "dev", here, "nodad"]);
    await run("ip", ["link", "set", here, "up"]);
    await run(...inside("ip", ["link", "set", "lo", "up"]));
    for (const a of clients.v4) await run(...inside("ip", ["addr", "add", `${a}/24`, "dev", there]));
    for (const a of clients.v6) await run(...inside("ip", ["-6", "addr", "add", `${a}/64`, "dev", there, "nodad"]));
    await run(...inside("ip", ["link", "set", there, "up"]));
  } catch (e) {
    await close();
    throw e;
  }
  return {
    pid,
    host,
    clients,
    argv: inside,
    async exec(cmd, args, o = {}) {
      const [c, a] = inside(cmd, args);
      const r = await execa(c, a, { input: o.input ?? "", reject: false, timeout: o.timeoutMs ?? 120_000 });
      return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    close,
  };
}
