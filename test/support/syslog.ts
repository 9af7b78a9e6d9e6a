// Debian's init scripts log through logger(1), which needs a syslog daemon on
// /dev/log. On a machine without one (a container, no systemd), the tests run
// BusyBox's syslogd, writing to a file of their own, for as long as they need it.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
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
  const up = await poll(() => child.exitCode !== null || (existsSync("/dev/log") && loggerWorks()), 30_000, 50);
  if (!up || child.exitCode !== null) {
    child.kill("SIGKILL");
    throw new Error("busybox syslogd did not provide /dev/log");
  }
  return {
    file,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync("/dev/log", { force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once("exit", done);
        child.kill("SIGTERM");
      }),
  };
}
