// Where things are in the inventory file: the position (line:column) and the
// field name of a path of keys, so every problem can name both.
import YAML, { isMap, isScalar, type Document, type LineCounter, type Node } from "yaml";
import type { InventoryProblem } from "../errors.ts";

export type Path = (string | number)[];

/** Keys walked at most to name where an offset is: fieldName shows 12, and a deeper document is refused anyway. */
const MAX_KEYS = 64;

/**
 * A field as errors name it: keys joined with '.', a key holding anything
 * unusual (a newline, a quote) written as a JSON string; a very deep path cut
 * after 12 keys, the document itself "(document)".
 */
export function fieldName(p: Path): string {
  if (p.length === 0) return "(document)";
  const words = p.map((k) => (typeof k === "number" || /^[A-Za-z0-9_@.+-]+$/.test(k) ? String(k) : JSON.stringify(k)));
  return words.length > 12 ? `${words.slice(0, 12).join(".")}...` : words.join(".");
}

/**
 * The keys leading to the innermost node whose range holds `offset`, for
 * errors the parser reports by offset; where no node holds it (a stray
 * token between entries), the entry just before it; "(document)" before any.
 */
export function pathAtOffset(doc: Document, offset: number): Path {
  const out: Path = [];
  let node: unknown = doc.contents;
  const start = (n: unknown) => (n as Node | null)?.range?.[0] ?? Infinity;
  const inside = (n: unknown) => start(n) <= offset && offset <= ((n as Node).range?.[2] ?? -1);
  for (let depth = 0; depth < MAX_KEYS && node; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((it) => inside(it.key) || inside(it.value)) ?? node.items.filter((it) => start(it.key) < offset).at(-1);
      if (!pair) break;
      out.push(isScalar(pair.key) ? String(pair.key.value) : "?");
      node = inside(pair.value) ? pair.value : undefined;
    } else if (YAML.isSeq(node)) {
      let i = node.items.findIndex((it) => inside(it));
      if (i < 0) i = node.items.reduce<number>((last, it, j) => (start(it) < offset ? j : last), -1);
      if (i < 0) break;
      out.push(i);
      node = inside(node.items[i]) ? node.items[i] : undefined;
    } else break;
  }
  return out.length ? out : ["(document)"];
}

/** The parsed document of one file, and how to name places in it. */
export class Positions {
  constructor(
    /** The file as problems name it (relative to the working directory). */
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
    /** The text the document was parsed from. */
    readonly text = "",
  ) {}

  /** Position of the node at path, or of the deepest ancestor that exists. */
  at(p: Path, keyOfLast = false): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let best: Node | null = (node as Node) ?? null;
    for (let i = 0; i < p.length; i++) {
      if (!isMap(node) && !YAML.isSeq(node)) break;
      const key = p[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(key));
        if (!pair) break;
        const last = i === p.length - 1;
        const target = last && keyOfLast ? pair.key : (pair.value ?? pair.key);
        node = target;
        if (target && (target as Node).range) best = target as Node;
      } else {
        node = node.items[Number(key)];
        if (node && (node as Node).range) best = node as Node;
      }
    }
    return this.lineCol(best?.range?.[0] ?? 0);
  }

  /** The line and column of an offset in the text. */
  lineCol(offset: number): { line: number; column: number } {
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  problem(p: Path, message: string, keyOfLast = false): InventoryProblem {
    return { file: this.file, ...this.at(p, keyOfLast), field: fieldName(p), message };
  }

  /** A problem the parser found at an offset, named by the keys around it. */
  problemAtOffset(offset: number, message: string): InventoryProblem {
    return { file: this.file, ...this.lineCol(offset), field: fieldName(pathAtOffset(this.doc, offset)), message };
  }

  has(p: Path): boolean {
    return this.doc.hasIn(p);
  }

  /** Of `levels` (most general first), the most specific that sets `p` under it. */
  levelSetting(levels: readonly Path[], p: Path): Path | undefined {
    return [...levels].reverse().find((l) => this.has([...l, ...p]));
  }
}
