// Runs a generated script and SIGKILLs it, with every process it started
// (its process group: the shell and the cp or find it runs), after `ms`.
import { spawn } from "node:child_process";

export async function runKilledAfter(script: string, ms: number, shell = process.env.MAILFLEET_LOCAL_SHELL ?? "/bin/sh"): Promise<void> {
  const child = spawn(shell, ["-s"], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  child.stdin.end(script);
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* already gone */
    }
  }, ms);
  await exited;
  clearTimeout(timer);
}
