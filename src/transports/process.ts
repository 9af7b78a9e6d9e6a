import { execa } from "execa";

export interface ProcessResult {
  stdout: string;
  stderr: string;
  code: number;
  timedOut: boolean;
}

/**
 * Runs a program with `input` on stdin. On timeout the program is killed and
 * its output pipes are closed at once: a descendant (a multiplexing ssh master
 * that was handed the pipes, a sleeping child of sh) may hold them open long
 * after, and the run must not wait for it.
 */
export async function runProcess(
  file: string,
  args: readonly string[],
  input: string,
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  const child = execa(file, args, { input, reject: false, stripFinalNewline: false, encoding: "utf8", env: opts.env });
  let timedOut = false;
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill("SIGTERM");
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, opts.timeoutMs);
  const r = await child;
  clearTimeout(timer);
  return { stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), code: r.exitCode ?? 1, timedOut };
}
