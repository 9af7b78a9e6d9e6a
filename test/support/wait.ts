// Waiting in tests: one poll loop, bounded, that says what it waited for when
// the time is up. The bounds are generous (a loaded machine is slow, not
// wrong): a test that waits for something that does happen passes whatever
// the load, and one that waits for something that does not fails with a name.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it is true or `timeoutMs` is up; resolves to whether it became true. */
export async function poll(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const start = Date.now();
  for (;;) {
    if (await check()) return true;
    if (Date.now() - start > timeoutMs) return false;
    await sleep(intervalMs);
  }
}

/** Polls until `check` is true or the time is up (then throws, naming `what`); returns the milliseconds it took. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 100): Promise<number> {
  const start = Date.now();
  if (!(await poll(check, timeoutMs, intervalMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  return Date.now() - start;
}
