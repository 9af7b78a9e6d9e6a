// The inventory's text read as one YAML document with positions. What the
// parser refuses (bad syntax, a bad indent, a key repeated in a mapping) is
// reported where it is, with the field around it.
import YAML, { isMap, isScalar, LineCounter, type Node } from "yaml";
import type { InventoryProblem } from "../errors.ts";
import { fieldName, pathAtOffset, Positions, type Path } from "./positions.ts";

/** Problems reported, at most: a parser out of its depth repeats itself. */
const MAX_SYNTAX_PROBLEMS = 5;

/** Mappings walked at most for a repeated key: a document deeper than this is refused anyway. */
const MAX_WALK_DEPTH = 64;

// Repeated keys are found by repeatedKey, one pass with a set per mapping: the parser's own check
// compares each key with every one before it, and a hub's 10,000 mailboxes took it 0.6 s.
const parse = (text: string, lines?: LineCounter) => YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });

/** The document of `text`, with positions; `file` is the name problems give. */
export function readYaml(text: string, file: string): Positions {
  const lines = new LineCounter();
  return new Positions(file, parse(text, lines), lines, text);
}

/**
 * The field around a parse error, named from the text before the error's
 * line: past a bad token (a tab, a bad indent) the parser's tree is a guess,
 * and the keys it makes up there (`platform."smartos roles"`) are not the
 * inventory's. The tree's own guess where it goes on from that text, or
 * where that text does not parse either.
 */
function fieldAt(pos: Positions, offset: number): { field: string; clean: boolean } {
  const lineStart = pos.text.lastIndexOf("\n", Math.max(0, offset - 1)) + 1;
  const before = parse(pos.text.slice(0, lineStart));
  const clean = before.errors.length === 0;
  const guessed = pathAtOffset(pos.doc, offset);
  if (!clean || lineStart === 0) return { field: fieldName(guessed), clean };
  const known = pathAtOffset(before, lineStart - 1);
  // the tree's guess where it goes on from the text before (nested flow lists on the line), the text before's where it does not
  const agrees = known.every((k, i) => guessed[i] === k);
  return { field: fieldName(agrees ? guessed : known), clean };
}

/** The first key repeated in a mapping, reported at the repeat, naming where it was set first. */
function repeatedKey(pos: Positions): InventoryProblem | undefined {
  const stack: [unknown, Path][] = [[pos.doc.contents, []]];
  while (stack.length) {
    const [n, at] = stack.pop()!;
    if (at.length > MAX_WALK_DEPTH) continue;
    if (YAML.isSeq(n)) n.items.forEach((it, i) => stack.push([it, [...at, i]]));
    if (!isMap(n)) continue;
    const first = new Map<string, Node>();
    for (const pair of n.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const seen = first.get(key);
      if (seen) {
        const was = pos.lineCol(seen.range?.[0] ?? 0);
        return {
          file: pos.file,
          ...pos.lineCol(pair.key.range?.[0] ?? 0),
          field: fieldName([...at, key]),
          message: `YAML: Map keys must be unique: ${key} is set twice in this mapping, first at ${was.line}:${was.column}; keep one`,
        };
      }
      first.set(key, pair.key);
    }
    for (const pair of [...n.items].reverse()) if (isScalar(pair.key)) stack.push([pair.value, [...at, String(pair.key.value)]]);
  }
  return undefined;
}

/**
 * The parser's errors (a repeated key among them), one of each kind, the
 * first five; an error the text before it already explains (what follows a
 * bad indent) is left out once another is reported.
 */
export function syntaxProblems(pos: Positions): InventoryProblem[] {
  const seen = new Set<string>();
  const first = pos.doc.errors.filter((e) => !seen.has(e.code) && !!seen.add(e.code)).slice(0, MAX_SYNTAX_PROBLEMS);
  const repeat = repeatedKey(pos);
  const out: InventoryProblem[] = repeat ? [repeat] : [];
  for (const e of first) {
    const { field, clean } = fieldAt(pos, e.pos[0]);
    if (!clean && out.length > 0) continue;
    const message = e.code === "RESOURCE_EXHAUSTION" ? `YAML: nested too deeply to read (an inventory needs about 8 levels)` : `YAML: ${e.message.split("\n")[0]}`;
    out.push({ file: pos.file, ...pos.lineCol(e.pos[0]), field, message });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
