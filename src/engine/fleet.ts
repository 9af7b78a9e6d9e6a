import pLimit from "p-limit";

export interface HostOutcome<T> {
  host: string;
  ok: boolean;
  value?: T;
  error?: string;
  detail?: string;
}

export const DEFAULT_PARALLEL = 20;

/** Runs `work` for every host, at most `parallel` at once; one host failing never stops the others. */
export async function forEachHost<H extends { name: string }, T>(
  hosts: readonly H[],
  parallel: number,
  work: (host: H) => Promise<T>,
  onDone?: (o: HostOutcome<T>) => void,
  onStart?: (host: string) => void,
): Promise<HostOutcome<T>[]> {
  const limit = pLimit(Math.max(1, parallel));
  return Promise.all(
    hosts.map((h) =>
      limit(async () => {
        let outcome: HostOutcome<T>;
        onStart?.(h.name);
        try {
          outcome = { host: h.name, ok: true, value: await work(h) };
        } catch (e) {
          const err = e as Error & { detail?: string };
          outcome = { host: h.name, ok: false, error: err.message, detail: err.detail };
        }
        onDone?.(outcome);
        return outcome;
      }),
    ),
  );
}
