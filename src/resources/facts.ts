// Parsing what the probe helpers print (see shell/prelude.ts mf_probe_path).

export interface PathFacts {
  type: "missing" | "file" | "dir" | "link" | "fifo" | "other";
  mode: number;
  owner: string;
  group: string;
  size: number;
  /** Regular files: the bytes read (up to the probe's limit). */
  content?: Buffer;
  /** Symlinks: where they point. */
  linkTarget?: string;
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
  if (head[0] === "missing" || !head[0]) return { type: "missing", mode: 0, owner: "", group: "", size: 0 };
  const facts: PathFacts = {
    type: TYPES[head[0]] ?? "other",
    mode: parseMode(head[1] ?? "----------"),
    owner: head[2] ?? "",
    group: head[3] ?? "",
    size: Number(head[4] ?? 0),
  };
  const rest = lines.slice(1);
  if (facts.type === "link") {
    const t = rest.find((l) => l.startsWith("T "));
    if (t) facts.linkTarget = t.slice(2);
  } else if (facts.type === "file") {
    const hex = rest.join(" ").replace(/\s+/g, "");
    facts.content = Buffer.from(hex, "hex");
  }
  return facts;
}

export function modeString(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
