// Runs the real mailfleet command (bin/mailfleet.js) as a user would.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const POSTFIX_ROOT = path.join(REPO, ".deps/postfix");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function mailfleet(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [path.join(REPO, "bin/mailfleet.js"), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { NO_COLOR: "1", ...opts.env },
    input: opts.input ?? "",
    reject: false,
  });
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** stderr without the plain progress lines a fleet run prints when not on a terminal ("plan 3/20 web1: ok ..."). */
export function withoutProgress(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !/^(plan|apply) \d+\/\d+ /.test(l))
    .join("\n");
}
