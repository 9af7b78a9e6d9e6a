// The document's tree before it is converted: nested at most MAX_DEPTH
// levels (an inventory needs about 8; a deeper one is a mistake or an
// attack), and every key a plain name, never a list or a mapping. Walked
// without recursion: the document may be too deep to recurse.
import YAML, { isMap, isScalar, type Node } from "yaml";
import type { InventoryProblem } from "../errors.ts";
import type { Positions } from "./positions.ts";
import { readYaml } from "./yaml-syntax.ts";

/** Deeper than this, a document is refused before it is converted. */
export const MAX_DEPTH = 32;

/** The first node nested deeper than MAX_DEPTH, or the first key that is a list or a mapping. */
export function treeShapeProblems(pos: Positions): InventoryProblem[] {
  const stack: [unknown, number][] = [[pos.doc.contents, 1]];
  const at = (n: unknown, why: string) => [pos.problemAtOffset((n as Node).range?.[0] ?? 0, why)];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    if (!isMap(n) && !YAML.isSeq(n)) continue;
    if (d > MAX_DEPTH) return at(n, `nested more than ${MAX_DEPTH} levels deep; an inventory needs about 8`);
    for (const it of n.items as unknown[]) {
      if (YAML.isPair(it)) {
        if (it.key !== null && !isScalar(it.key) && !YAML.isAlias(it.key)) return at(it.key, "a key is a list or a mapping; keys are plain names");
        stack.push([it.key, d + 1], [it.value, d + 1]);
      } else stack.push([it, d + 1]);
    }
  }
  return [];
}

/**
 * Block indentation this deep is read no further: the YAML parser recurses
 * once per level when a key after it closes them all, and a few thousand
 * levels overflow its stack. Far above MAX_DEPTH (the lines of a block
 * scalar are indented too), far below what overflows.
 */
const MAX_INDENT_LEVELS = 256;

/** Where the text's block indentation first goes MAX_INDENT_LEVELS deep: the offset of that line, or -1. */
export function deepIndentOffset(text: string): number {
  const indents: number[] = [];
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf("\n", start);
    const stop = end < 0 ? text.length : end;
    let i = start;
    while (i < stop && text[i] === " ") i++;
    if (i < stop && text[i] !== "#" && text[i] !== "\r") {
      const indent = i - start;
      while (indents.length && indents.at(-1)! >= indent) indents.pop();
      indents.push(indent);
      if (indents.length > MAX_INDENT_LEVELS) return start;
    }
    start = stop + 1;
  }
  return -1;
}

/**
 * A document indented too deeply to parse whole: the tree shape of the
 * text before the line where it gets too deep (nested more than MAX_DEPTH
 * there already), else that line, refused as too deep to read.
 */
export function deepTextProblems(text: string, file: string): InventoryProblem[] {
  const offset = deepIndentOffset(text);
  if (offset < 0) return [];
  const head = readYaml(text.slice(0, offset), file);
  const shape = treeShapeProblems(head);
  if (shape.length) return shape;
  return [{ file, ...head.lineCol(offset), field: "", message: `YAML: indented more than ${MAX_INDENT_LEVELS} levels deep, too deep to read (an inventory needs about 8)` }];
}
