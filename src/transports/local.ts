import path from "node:path";
import { runProcess } from "./process.ts";
import type { RunResult, Transport } from "./types.ts";

/** Runs argv here with `input` on stdin; a timeout becomes exit 124 with a message on stderr. */
export async function runHere(argv: readonly string[], input: string, timeoutMs?: number): Promise<RunResult> {
  const r = await runProcess(argv[0]!, argv.slice(1), input, { timeoutMs, env: { LC_ALL: "C" } });
  if (r.timedOut) return { stdout: r.stdout, stderr: `timed out after ${timeoutMs} ms`, code: 124 };
  return { stdout: r.stdout, stderr: r.stderr, code: r.code };
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
