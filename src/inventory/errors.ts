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
}

const typeWords = (t: string) => (t === "object" ? "a mapping" : t === "array" ? "a list" : `a ${t}`);

/** Turns one zod issue into a sentence that says what was found and what is allowed. */
export function describeIssue(issue: z.core.$ZodIssue, value: unknown, allowed: Allowed = {}): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}${
        allowed.keys?.length ? `; allowed: ${allowed.keys.join(", ")}` : ""
      }`;
    case "invalid_type":
      if (value === undefined) return `is required (set it in the host, its group or defaults): ${typeWords(issue.expected)}`;
      return `${describeValue(value)} is not allowed; expected ${typeWords(issue.expected)}`;
    case "invalid_value":
      if (value === undefined) return `is required (set it in the host, its group or defaults); allowed: ${issue.values.map((v) => String(v)).join(", ")}`;
      return `${describeValue(value)} is not allowed; allowed: ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_union":
      if (allowed.forms) return `${describeValue(value)} is not one of the allowed forms: ${allowed.forms}`;
      return `${describeValue(value)} is not allowed; ${issue.message}`;
    case "invalid_key":
      return `key ${describeValue(issue.path.at(-1))} is not allowed; ${issue.issues[0]?.message ?? issue.message}`;
    default:
      return `${describeValue(value)} is not allowed; ${issue.message}`;
  }
}
