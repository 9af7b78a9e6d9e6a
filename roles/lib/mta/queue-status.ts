// A host's MTA queue in figures, from the messages its role read
// (MtaQueue.parseStatus): what `mailfleet queue` prints, per host and summed
// over the fleet.
import type { MtaQueue, QueuedMessage, QueueState } from "./types.ts";

export const QUEUE_STATES: readonly QueueState[] = ["queued", "deferred", "held", "failed"];

export interface QueueSummary {
  mta: string;
  title: string;
  /** Messages by state; null where this MTA does not tell the state apart. */
  counts: Record<QueueState, number | null>;
  messages: number;
  bytes: number;
  /** Age of the oldest message, by the host's clock; null when empty. */
  oldestSeconds: number | null;
  /** The last error per destination; null where the MTA records none. */
  lastErrors: { destination: string; text: string }[] | null;
}

export function summarise(q: Pick<MtaQueue, "mta" | "title" | "knows">, messages: readonly QueuedMessage[], now: number): QueueSummary {
  const counts = Object.fromEntries(QUEUE_STATES.map((s) => [s, q.knows.states.includes(s) ? 0 : null])) as Record<QueueState, number | null>;
  for (const m of messages) counts[m.state] = (counts[m.state] ?? 0) + 1;
  // a message of unknown arrival (OpenSMTPD's offline/) counts, but gives no age
  const oldest = messages.reduce((o, m) => (Number.isFinite(m.arrived) ? Math.min(o, m.arrived) : o), Infinity);
  // the newest message's error stands for its destination
  const errors = new Map<string, { at: number; text: string }>();
  for (const m of messages) {
    for (const e of m.errors) if ((errors.get(e.destination)?.at ?? -Infinity) <= m.arrived) errors.set(e.destination, { at: m.arrived, text: e.text });
  }
  return {
    mta: q.mta,
    title: q.title,
    counts,
    messages: messages.length,
    bytes: messages.reduce((n, m) => n + m.bytes, 0),
    oldestSeconds: Number.isFinite(oldest) ? Math.max(0, now - oldest) : null,
    lastErrors: q.knows.errors ? [...errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([destination, e]) => ({ destination, text: e.text })) : null,
  };
}

/** The domain of an address, lower-cased, as a destination ("" for the null address). */
export function destinationOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? address.toLowerCase() : address.slice(at + 1).toLowerCase();
}

/** `ls -ln DIR/` lines: each regular file's size and name (names without blanks, as MTAs make them). */
export function lsFiles(lines: readonly string[]): { bytes: number; name: string }[] {
  return lines.flatMap((l) => {
    if (!l.startsWith("-")) return [];
    const f = l.trim().split(/\s+/);
    const bytes = Number(f[4]);
    return Number.isFinite(bytes) && f.length >= 6 ? [{ bytes, name: f.at(-1)! }] : [];
  });
}
