import path from "node:path";
import { execa } from "execa";
import type { RunResult, Transport } from "./types.ts";

/** Runs argv here with `input` on stdin; a timeout becomes exit 124 with a message on stderr. */
export async function runHere(argv: readonly string[], input: string, timeoutMs?: number): Promise<RunResult> {
  const r = await execa(argv[0]!, argv.slice(1), {
    input,
    reject: false,
    timeout: timeoutMs,
    stripFinalNewline: false,
    encoding: "utf8",
    env: { LC_ALL: "C" },
  });
  if (r.timedOut) return { stdout: String(r.stdout ?? ""), stderr: `timed out after ${timeoutMs} ms`, code: 124 };
  return { stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), code: r.exitCode ?? 1 };
}

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

  run(script: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    const shell = (process.env.MAILFLEET_LOCAL_SHELL ?? "/bin/sh").split(" ").filter(Boolean);
    return runHere([...shell, "-s"], script, opts.timeoutMs);
  }
}
