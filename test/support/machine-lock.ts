// End-to-end tests that change this machine (/etc/nullmailer, installed
// packages, system services) hold this lock, so two runs never interleave.
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";

const LOCK = "/tmp/mailfleet-e2e-machine.lock";

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(`${LOCK}/pid`, "utf8"));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function withMachineLock<T>(fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      break;
    } catch {
      if (!holderAlive()) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > until) throw new Error(`machine lock ${LOCK} still held after ${timeoutMs} ms`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** For beforeAll/afterAll pairs. */
export async function acquireMachineLock(): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let acquired!: () => void;
  const ready = new Promise<void>((r) => (acquired = r));
  void withMachineLock(async () => {
    acquired();
    await held;
  });
  await ready;
  return release;
}
