// What a fleet run shows while it works, on stderr. On a terminal: a few
// lines rewritten in place (done, running, failed). In CI or when stderr is
// not a terminal: one plain line per finished host.
import pc from "picocolors";
import type { HostOutcome } from "../engine/fleet.ts";

export interface Progress {
  started(host: string): void;
  done(outcome: HostOutcome<unknown>, note?: string): void;
  /** Runs `write` (output on another stream of the same terminal, e.g. a host's result on stdout) with the display cleared first; it is drawn again below. */
  print(write: () => void): void;
  end(): void;
}

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export function isLiveTerminal(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI && env.TERM !== "dumb";
}

export const silentProgress: Progress = { started() {}, done() {}, print: (write) => write(), end() {} };

/** Plain lines: `plan 3/10 web1: ok (2 changes)` or `plan 4/10 web2: FAILED: <reason>`. */
export function lineProgress(label: string, total: number, stream: ProgressStream): Progress {
  let n = 0;
  return {
    started() {},
    done(o, note) {
      n++;
      const what = o.ok ? `ok${note ? ` (${note})` : ""}` : `FAILED: ${o.error}`;
      stream.write(`${label} ${n}/${total} ${o.host}: ${what}\n`);
    },
    print: (write) => write(),
    end() {},
  };
}

/** A status line and the hosts running now, redrawn at most every 100 ms; failures are printed above it as they happen. */
export function liveProgress(label: string, total: number, stream: ProgressStream): Progress {
  const running = new Set<string>();
  let done = 0;
  let failed = 0;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (drawn > 0) stream.write(`\r\x1b[2K${"\x1b[1A\x1b[2K".repeat(drawn - 1)}`);
    drawn = 0;
  };
  const draw = () => {
    timer = undefined;
    clear();
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const bar = 20;
    const fill = total ? Math.round((done / total) * bar) : bar;
    const status = `${pc.bold(label)} [${"#".repeat(fill)}${" ".repeat(bar - fill)}] ${done}/${total} done, ${running.size} running${failed ? `, ${pc.red(`${failed} failed`)}` : ""}`;
    const names = [...running].join(" ");
    const hosts = pc.dim(`  ${names.length > width - 2 ? `${names.slice(0, width - 5)}...` : names}`);
    stream.write(running.size ? `${status}\n${hosts}` : status);
    drawn = running.size ? 2 : 1;
  };
  const schedule = () => {
    timer ??= setTimeout(draw, 100);
    timer.unref?.();
  };
  return {
    started(host) {
      running.add(host);
      schedule();
    },
    done(o) {
      running.delete(o.host);
      done++;
      if (!o.ok) {
        failed++;
        clear();
        stream.write(`${pc.red("failed")} ${o.host}: ${o.error}\n`);
      }
      schedule();
    },
    print(write) {
      clear();
      write();
      if (running.size > 0 || done < total) schedule();
    },
    end() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      clear();
    },
  };
}

export function fleetProgress(label: string, total: number, opts: { stream: ProgressStream; quiet?: boolean }): Progress {
  if (isLiveTerminal(opts.stream)) return liveProgress(label, total, opts.stream);
  return opts.quiet ? silentProgress : lineProgress(label, total, opts.stream);
}
