// Teardown that runs every step even when one fails (a daemon that would not
// stop must not leave the next one running), then reports the first failure.
export async function everyStep(steps: readonly (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
}
