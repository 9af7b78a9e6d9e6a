// The inventory's text read as one YAML document with positions. What the
// parser refuses (bad syntax, a bad indent, a key repeated in a mapping) is
// reported where it is, with the field around it.
import YAML, { LineCounter } from "yaml";
import type { InventoryProblem } from "../errors.ts";
import { Positions } from "./positions.ts";

/** Problems reported, at most: a parser out of its depth repeats itself. */
const MAX_SYNTAX_PROBLEMS = 5;

/** The document of `text`, with positions; `file` is the name problems give. */
export function readYaml(text: string, file: string): Positions {
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return new Positions(file, doc, lines);
}

/** The parser's errors (a repeated key among them), one of each kind, the first five. */
export function syntaxProblems(pos: Positions): InventoryProblem[] {
  const seen = new Set<string>();
  const first = pos.doc.errors.filter((e) => !seen.has(e.code) && !!seen.add(e.code)).slice(0, MAX_SYNTAX_PROBLEMS);
  return first.map((e) =>
    pos.problemAtOffset(
      e.pos[0],
      e.code === "RESOURCE_EXHAUSTION" ? `YAML: nested too deeply to read (an inventory needs about 8 levels)` : `YAML: ${e.message.split("\n")[0]}`,
    ),
  );
}
