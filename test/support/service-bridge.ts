// Lets an apply script stop and start a daemon that the test process owns
// (the test's Dovecot runs as a child of the test, in its mount namespace,
// so a script cannot start it itself): the script drops a request file and
// waits, bounded, for the test to answer it. The test answers while the
// apply runs (applies run in a child process; the test's event loop is free).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sh, type Sh } from "../../src/shell/builder.ts";

export interface ServiceBridge {
  /** Shell code for the platform's serviceStop / serviceStart: asks the test and waits for its answer (at most 120 s). */
  stop: Sh;
  start: Sh;
  /** What the test did, in order: "stop", "start". */
  log: string[];
  close(): void;
}

export function serviceBridge(handlers: { stop(): Promise<void>; start(): Promise<void> }): ServiceBridge {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mf-bridge-"));
  const log: string[] = [];
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    const request = readdirSync(dir).find((f) => f === "stop" || f === "start");
    if (!request) return;
    busy = true;
    let answer = "ok";
    try {
      await handlers[request as "stop" | "start"]();
      log.push(request);
    } catch (e) {
      answer = `failed: ${(e as Error).message}`;
    }
    rmSync(path.join(dir, request), { force: true });
    writeFileSync(path.join(dir, `done-${request}`), answer);
    busy = false;
  }, 100);
  const ask = (verb: string) =>
    sh`rm -f ${path.join(dir, `done-${verb}`)}; : > ${path.join(dir, verb)}; mf_w=0; while [ ! -f ${path.join(dir, `done-${verb}`)} ] && [ "$mf_w" -lt 1200 ]; do sleep 0.1; mf_w=$((mf_w + 1)); done; [ "$(cat ${path.join(dir, `done-${verb}`)} 2>/dev/null)" = ok ]`;
  return {
    stop: ask("stop"),
    start: ask("start"),
    log,
    close() {
      clearInterval(timer);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
