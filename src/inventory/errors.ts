import type { z } from "zod";

export interface InventoryProblem {
  file: string;
  line: number;
  column: number;
  /** Field path, e.g. groups.zones.hosts.web1.relay.port */
  field: string;
  message: string;
}

/** Bad input: printed as file:line:column: field: message, never as a stack trace. */
export class InventoryError extends Error {
  constructor(readonly problems: InventoryProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "InventoryError";
  }
}

/**
 * The inventory file itself cannot be read (missing, a directory, no
 * permission): not a problem in the inventory, so it names the file as it
 * was looked for (absolute) and says why, with no line or column.
 */
export class InventoryFileError extends Error {
  constructor(
    message: string,
    /** The path looked at, absolute. */
    readonly path: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "InventoryFileError";
  }
}

/**
 * Text from the inventory made safe for a terminal: control characters (a
 * newline in a key, an escape sequence) are shown escaped, never sent raw.
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

export function formatProblem(p: InventoryProblem): string {
  const where = `${printable(p.file)}:${p.line}:${p.column}`;
  return p.field ? `${where}: ${printable(p.field)}: ${printable(p.message)}` : `${where}: ${printable(p.message)}`;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}..."` : s;
}

/** What the schema says is allowed where the issue is (from the inventory's JSON Schema). */
export interface Allowed {
  /** The keys of the mapping, for an unknown key. */
  keys?: string[];
  /** The forms of a union, in words. */
  forms?: string;
  /** The numbers allowed, in words, where the schema bounds them. */
  range?: string;
}

/** Edit distance (insertions, deletions, substitutions, a swap of neighbours). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** " (did you mean X?)" for the allowed word closest to a typo (a third of its letters wrong at most, case aside), else "". */
export function didYouMean(found: unknown, allowed: readonly unknown[] | undefined): string {
  if (typeof found !== "string" || !allowed?.length) return "";
  const f = found.toLowerCase();
  let best: { word: string; d: number } | undefined;
  for (const a of allowed) {
    if (typeof a !== "string") continue;
    const d = distance(f, a.toLowerCase());
    if (d <= Math.max(1, Math.floor(a.length / 3)) && (!best || d < best.d)) best = { word: a, d };
  }
  return best ? ` (did you mean ${best.word}?)` : "";
}

const typeWords = (t: string) => (t === "object" ? "a mapping" : t === "array" ? "a list" : `a ${t}`);

/** Turns one zod issue into a sentence that says what was found and what is allowed. */
export function describeIssue(issue: z.core.$ZodIssue, value: unknown, allowed: Allowed = {}): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}${
        issue.keys.length === 1 ? didYouMean(issue.keys[0], allowed.keys) : ""
      }${allowed.keys?.length ? `; allowed: ${allowed.keys.join(", ")}` : ""}`;
    case "invalid_type":
      if (value === undefined) return `is required (set it in the host, its group or defaults): ${allowed.range ?? typeWords(issue.expected)}`;
      return `${describeValue(value)} is not allowed; expected ${allowed.range ?? typeWords(issue.expected)}`;
    case "invalid_value":
      if (value === undefined) return `is required (set it in the host, its group or defaults); allowed: ${issue.values.map((v) => String(v)).join(", ")}`;
      return `${describeValue(value)} is not allowed${didYouMean(value, issue.values)}; allowed: ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_union":
      if (allowed.forms) return `${describeValue(value)} is not one of the allowed forms: ${allowed.forms}`;
      return `${describeValue(value)} is not allowed; ${issue.message}`;
    case "invalid_key":
      return `key ${describeValue(issue.path.at(-1))} is not allowed; ${issue.issues[0]?.message ?? issue.message}`;
    case "custom":
      // a check that says it all itself, and must not repeat the value (a password hash): its message alone
      if ((issue.params as { alone?: boolean } | undefined)?.alone) return issue.message;
      return `${describeValue(value)} is not allowed; ${issue.message}`;
    default:
      return `${describeValue(value)} is not allowed; ${issue.message}`;
  }
}
