// Parsing what the probe helpers print (see shell/prelude.ts mf_probe_path).
import type { Change, ResourceKind } from "./types.ts";

export interface PathFacts {
  type: "missing" | "file" | "dir" | "link" | "fifo" | "other";
  mode: number;
  owner: string;
  group: string;
  size: number;
  /** Regular files: the bytes read (up to the probe's limit). */
  content?: Buffer;
  /** Regular files larger than the probe's limit: SHA-256 (hex) of the whole file. */
  sha256?: string;
  /** Symlinks: where they point. */
  linkTarget?: string;
  /** A temporary file of an interrupted write lies beside it (mf_leftover). */
  leftover?: boolean;
}

const TYPES: Record<string, PathFacts["type"]> = { f: "file", d: "dir", l: "link", p: "fifo", o: "other" };

export function parseMode(perms: string): number {
  const p = perms.slice(1, 10);
  let mode = 0;
  const bit = (i: number, ch: string, v: number) => (p[i] === ch ? v : 0);
  for (let i = 0; i < 9; i++) {
    const c = p[i] ?? "-";
    if (c !== "-" && c !== "S" && c !== "T") mode |= 1 << (8 - i);
  }
  mode |= bit(2, "s", 0o4000) | bit(2, "S", 0o4000) | bit(5, "s", 0o2000) | bit(5, "S", 0o2000);
  mode |= bit(8, "t", 0o1000) | bit(8, "T", 0o1000);
  return mode;
}

export function parsePathFacts(lines: string[]): PathFacts {
  const head = (lines[0] ?? "missing").trim().split(/\s+/);
  const leftover = lines.includes("leftover") ? { leftover: true } : {};
  if (head[0] === "missing" || !head[0]) return { type: "missing", mode: 0, owner: "", group: "", size: 0, ...leftover };
  const facts: PathFacts = {
    type: TYPES[head[0]] ?? "other",
    mode: parseMode(head[1] ?? "----------"),
    owner: head[2] ?? "",
    group: head[3] ?? "",
    size: Number(head[4] ?? 0),
    ...leftover,
  };
  const rest = lines.slice(1).filter((l) => l !== "leftover");
  if (facts.type === "link") {
    const t = rest.find((l) => l.startsWith("T "));
    if (t) facts.linkTarget = t.slice(2);
  } else if (facts.type === "file") {
    // content lines, "~" in front when they hold a secret (mf_probe_secret), which also prints an "id" line
    // and "sha256 <digest>" of the whole file when it is larger than the part shown
    const whole = rest.find((l) => /^~?sha256 /.test(l));
    if (whole) facts.sha256 = whole.replace(/^~?sha256 /, "").trim();
    const hex = rest
      .filter((l) => !l.startsWith("id ") && !/^~?sha256 /.test(l))
      .map((l) => (l.startsWith("~") ? l.slice(1) : l))
      .join(" ")
      .replace(/\s+/g, "");
    facts.content = Buffer.from(hex, "hex");
  }
  return facts;
}

export function modeString(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

const FOUND: Record<PathFacts["type"], string> = {
  missing: "missing",
  file: "a regular file",
  dir: "a directory",
  link: "a symbolic link",
  fifo: "a FIFO",
  other: "a device or socket",
};

/** What is at a path, for a message: "a directory", "a symbolic link to ../x". */
export function describeFound(f: PathFacts): string {
  return f.type === "link" && f.linkTarget !== undefined ? `a symbolic link to ${f.linkTarget}` : FOUND[f.type];
}

/**
 * A managed path holding another type of thing than its resource manages
 * (a directory where a file goes, a file where a link goes, ...). mailfleet
 * replaces none of them: the host is refused before anything is written
 * (see Change.conflict); the admin moves it away.
 */
export function typeConflict(r: { id: string; kind: ResourceKind }, path: string, f: PathFacts, expected: string): Change {
  const conflict = `${path} is ${describeFound(f)}, but ${r.id} manages ${expected} there; mailfleet does not replace it: move it away, then apply again`;
  return { id: r.id, kind: r.kind, action: "update", target: path, summary: `refused: ${conflict}`, conflict };
}
