// Debian's init scripts log through logger(1), which needs a syslog daemon on
// /dev/log. On a machine without one (a container, no systemd), the tests run
// BusyBox's syslogd, writing to a file of their own, for as long as they need it.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { alive, stopProcess } from "./daemon.ts";
import { poll } from "./wait.ts";

export interface Syslog {
  /** The file this syslogd writes to, or null when the machine's own syslog is used. */
  file: string | null;
  stop(): Promise<void>;
}

const loggerWorks = () => spawnSync("logger", ["-t", "mailfleet-test", "syslog check"], { stdio: "ignore" }).status === 0;

export async function ensureSyslog(file: string): Promise<Syslog> {
  if (loggerWorks()) return { file: null, stop: async () => {} };
  rmSync("/dev/log", { force: true }); // a socket nobody listens on
  const child = spawn("busybox", ["syslogd", "-n", "-O", file], { stdio: "ignore" });
  const up = await poll(() => !alive(child) || (existsSync("/dev/log") && loggerWorks()), 30_000, 50);
  if (!up || !alive(child)) {
    child.kill("SIGKILL");
    throw new Error("busybox syslogd did not provide /dev/log");
  }
  return {
    file,
    async stop() {
      await stopProcess(child);
      rmSync("/dev/log", { force: true });
    },
  };
}
