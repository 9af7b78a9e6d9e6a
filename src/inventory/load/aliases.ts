// The document converted to plain values, aliases resolved: an alias to no
// anchor (defined before it) and aliases expanding past MAX_ALIASES copies
// (a "billion laughs" bomb) are refused at the alias.
import YAML, { type Node } from "yaml";
import type { Checked } from "./problems.ts";
import type { Positions } from "./positions.ts";

/** Alias nodes resolved while converting, at most (YAML's own guard against expansion). */
export const MAX_ALIASES = 100;

/** The document's value ({} for an empty document), or the problem at the alias that stopped it. */
export function documentValue(pos: Positions): Checked<unknown> {
  try {
    return { value: pos.doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {} };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const unresolved = /^Unresolved alias[^:]*: (.*)$/.exec(e.message)?.[1];
    let alias: Node | undefined;
    YAML.visit(pos.doc, {
      Alias(_, node) {
        if (unresolved === undefined || node.source === unresolved) {
          alias = node;
          return YAML.visit.BREAK;
        }
      },
    });
    const message =
      unresolved !== undefined
        ? `YAML: alias *${unresolved} names no anchor (&${unresolved}) defined before it`
        : `YAML: aliases expand to more than ${MAX_ALIASES} copies (an alias bomb?); write the values out`;
    return { problems: [pos.problemAtOffset(alias?.range?.[0] ?? 0, message)] };
  }
}
