// Postfix from the unpacked Debian package (.deps/postfix, see scripts/test-deps.mjs):
// it conflicts with the nullmailer installed on this machine, so the tests run
// its programs from there, and its daemons as separate instances (postfix -c DIR).
import path from "node:path";
import { execa } from "execa";
import { POSTFIX_ROOT } from "./cli.ts";

export const POSTFIX_LIB = path.join(POSTFIX_ROOT, "usr/lib/postfix");
export const POSTFIX_SBIN = path.join(POSTFIX_ROOT, "usr/sbin");
export const postfixEnv = { LD_LIBRARY_PATH: POSTFIX_LIB };

/** Runs a program of the unpacked package, e.g. postfixTool("postconf", ["-c", dir, "-n"]). */
export async function postfixTool(name: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  const r = await execa(path.join(POSTFIX_SBIN, name), args, {
    env: { ...postfixEnv, ...opts.env },
    input: opts.input,
    reject: false,
  });
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
