import path from "node:path";
import { execa } from "execa";
import type { RunResult, Transport } from "./types.ts";

/**
 * Runs scripts with /bin/sh on this machine. MAILFLEET_LOCAL_SHELL picks
 * another POSIX shell (the tests run every script under dash, ksh93 and busybox sh).
 */
export class LocalTransport implements Transport {
  readonly description: string;
  readonly root: string;

  constructor(root?: string) {
    this.root = root ? path.resolve(root) : "";
    this.description = root ? `local:${path.relative(process.cwd(), this.root) || "."}` : "local";
  }

  async run(script: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const shell = (process.env.MAILFLEET_LOCAL_SHELL ?? "/bin/sh").split(" ").filter(Boolean);
    const r = await execa(shell[0]!, [...shell.slice(1), "-s"], {
      input: script,
      reject: false,
      timeout: opts.timeoutMs,
      stripFinalNewline: false,
      encoding: "utf8",
      env: { LC_ALL: "C" },
    });
    if (r.timedOut) return { stdout: String(r.stdout ?? ""), stderr: `timed out after ${opts.timeoutMs} ms`, code: 124 };
    return { stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), code: r.exitCode ?? 1 };
  }
}
