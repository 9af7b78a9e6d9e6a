// The one way scripts are built. `sh` is a tagged template: the literal text
// is code written here, and every interpolated value is quoted as one word,
// unless it is already shell code (an Sh: built by `sh` itself, or text marked
// with `code`). Paths on the host go through `hostPath`, which is the one
// place the root prefix ("$R", a sandbox directory) is put in front; file
// content goes through `content` (a printf '%b' literal, the only way content
// travels). An Sh is plain data, so resources holding code serialize as they are.
import { octal, printfLiteral, shq } from "./quote.ts";

export interface Sh {
  readonly sh: string;
}

interface HostPath {
  readonly hostPath: string;
}

interface Content {
  readonly content: string | Buffer;
}

interface Mode {
  readonly mode: number;
}

export type ShValue = string | number | Sh | HostPath | Content | Mode | readonly ShValue[];

export function isSh(v: unknown): v is Sh {
  return typeof v === "object" && v !== null && typeof (v as Sh).sh === "string" && Object.keys(v).length === 1;
}

/** Marks text as shell code. Only for code mailfleet itself wrote (platform adapters, fixed commands), never for a value. */
export function code(text: string): Sh {
  return { sh: text };
}

/** A path on the host, written with the root prefix in front: "$R"'/etc/x'. */
export function hostPath(p: string): HostPath {
  if (!p.startsWith("/")) throw new Error(`not an absolute host path: ${JSON.stringify(p)}`);
  return { hostPath: p };
}

/** File content, reproduced byte for byte by `printf '%b'` (see printfLiteral). */
export function content(c: string | Buffer): Content {
  return { content: c };
}

/** A file mode as four octal digits (0644). */
export function mode(m: number): Mode {
  return { mode: m };
}

function render(v: ShValue): string {
  if (typeof v === "string") return shq(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`not a number for a script: ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return (v as readonly ShValue[]).map(render).join(" ");
  const o = v as Sh | HostPath | Content | Mode;
  if ("sh" in o) return o.sh;
  if ("hostPath" in o) return `"$R"${shq(o.hostPath)}`;
  if ("content" in o) return printfLiteral(o.content);
  return octal(o.mode);
}

export function sh(strings: TemplateStringsArray, ...values: ShValue[]): Sh {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return { sh: out };
}

/** Joins pieces of code; empty and missing ones are left out. */
export function join(parts: readonly (Sh | undefined | false | null)[], sep = "\n"): Sh {
  return { sh: parts.filter((p): p is Sh => !!p && p.sh !== "").map((p) => p.sh).join(sep) };
}

/** `{ body; } || mf_fail MESSAGE`: the usual way a step fails with a reason. */
export function orFail(body: Sh, message: string): Sh {
  return sh`${body} || mf_fail ${message}`;
}
