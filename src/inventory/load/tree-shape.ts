// The document's tree before it is converted: nested at most MAX_DEPTH
// levels (an inventory needs about 8; a deeper one is a mistake or an
// attack), and every key a plain name, never a list or a mapping. Walked
// without recursion: the document may be too deep to recurse.
import YAML, { isMap, isScalar, type Node } from "yaml";
import type { InventoryProblem } from "../errors.ts";
import type { Positions } from "./positions.ts";

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
