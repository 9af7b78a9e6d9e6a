// What Postfix's main.cf reader (mac_expand, and the config parser's
// { ... } grouping) refuses in a value, checked at validate so that a
// setting that would break Postfix never reaches a host: $name, ${name},
// $(name) must name a parameter Postfix knows or main.cf defines; ${name?x}
// and ${name:x} (and the {a} == {b} ? {c} : {d} form) must be closed; a
// lone $ is an error ($$ is a dollar sign); a value that starts with { must
// close it. test/e2e/postfix-postconf.test.ts holds this to the real postconf.
import type { RuleProblem } from "../../../src/inventory/catalog.ts";
import { POSTFIX_37_PARAMETERS } from "./parameters.ts";

const NAME = /^[A-Za-z0-9_]+/;

/** Where the bracket opened at `open` closes (nesting counted), or -1. */
function closing(v: string, open: number): number {
  const o = v[open]!;
  const c = o === "{" ? "}" : ")";
  let depth = 0;
  for (let i = open; i < v.length; i++) {
    if (v[i] === o) depth++;
    else if (v[i] === c && --depth === 0) return i;
  }
  return -1;
}

/** The first problem with the macros of `v`, or null; `defined` tells whether a name is a parameter. */
function macroProblem(v: string, defined: (name: string) => boolean, topLevel = false): string | null {
  for (let i = 0; i < v.length; i++) {
    // main.cf groups { ... } where a word starts with '{' (after a space, ',' or ':'): it must close
    if (topLevel && v[i] === "{" && (i === 0 || " \t,:".includes(v[i - 1]!)) && closing(v, i) < 0) {
      return `${JSON.stringify(v.slice(i))} opens '{' and never closes it`;
    }
    if (v[i] !== "$") continue;
    const next = v[i + 1];
    if (next === "$") {
      i++;
      continue;
    }
    if (next === "{" || next === "(") {
      const end = closing(v, i + 1);
      if (end < 0) return `${JSON.stringify(v.slice(i))} is not closed (a '$${next}' needs its '${next === "{" ? "}" : ")"}')`;
      const inner = v.slice(i + 2, end);
      if (next === "{" && inner.trimStart().startsWith("{")) {
        // ${{a} == {b} ? {c} : {d}}: the operands may hold macros of their own
        const p = macroProblem(inner, defined);
        if (p) return p;
      } else {
        const m = /^\s*([A-Za-z0-9_]*)\s*(.*)$/s.exec(inner)!;
        const name = m[1]!;
        const rest = m[2]!;
        if (name === "") return `'$${next}${inner}${next === "{" ? "}" : ")"}' names no parameter`;
        if (rest !== "" && rest[0] !== "?" && rest[0] !== ":") return `'$${next}${inner}${next === "{" ? "}" : ")"}': after a parameter name only ?text or :text may follow`;
        if (!defined(name)) return `$${name} is no Postfix parameter and is not set in main.cf`;
        const p = macroProblem(rest.slice(1), defined);
        if (p) return p;
      }
      i = end;
      continue;
    }
    const m = NAME.exec(v.slice(i + 1));
    if (!m) return `a lone '$' (write $$ for a dollar sign, $name or \${name} for a parameter)`;
    if (!defined(m[0])) return `$${m[0]} is no Postfix parameter and is not set in main.cf`;
    i += m[0].length;
  }
  return null;
}

/**
 * Why Postfix would refuse `value` for a main.cf parameter, or null.
 * `definedHere` are the parameters main.cf itself sets.
 */
export function mainCfValueProblem(value: string, definedHere: ReadonlySet<string>): string | null {
  const defined = (n: string) => POSTFIX_37_PARAMETERS.has(n) || definedHere.has(n);
  return macroProblem(value.trim(), defined, true);
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The Postfix 3.7 parameter closest to `name`, when it is close enough to be a typo. */
export function closestParameter(name: string): string | undefined {
  let best: string | undefined;
  let score = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const p of POSTFIX_37_PARAMETERS) {
    const d = distance(name, p);
    if (d < score) [best, score] = [p, d];
  }
  return best;
}

/** Whether some value uses parameter `name` ($name, ${name...}, $(name...)). */
const usedIn = (values: readonly unknown[], name: string) => {
  const re = new RegExp(`\\$(?:${name}(?![A-Za-z0-9_])|[{(]\\s*${name}(?![A-Za-z0-9_]))`);
  return values.some((v) => typeof v === "string" && re.test(v));
};

/**
 * The rule problems of a role's mainCf settings (at `field`, e.g. ["postfix",
 * "mainCf"]): each name Postfix does not know (a parameter of one's own is
 * fine where another value uses it, as postconf sees it), each value Postfix
 * would refuse. `managed` are the parameters the role writes itself, which
 * count as set in main.cf.
 */
export function mainCfProblems(mainCf: Readonly<Record<string, unknown>> | undefined, managed: readonly string[], field: string[]): RuleProblem[] {
  const definedHere = new Set<string>([...managed, ...Object.keys(mainCf ?? {})]);
  const out: RuleProblem[] = [];
  const values = Object.values(mainCf ?? {});
  for (const key of Object.keys(mainCf ?? {})) {
    if (POSTFIX_37_PARAMETERS.has(key) || managed.includes(key) || usedIn(values, key)) continue;
    const near = closestParameter(key);
    out.push({
      field: [...field, key],
      message: `Postfix has no parameter ${key} (postconf -d of Postfix 3.7 lists every one)${near ? `; did you mean ${near}?` : ""}; a parameter of your own must be used as $${key} in another setting`,
    });
  }
  for (const [key, value] of Object.entries(mainCf ?? {})) {
    if (typeof value !== "string") continue;
    const why = mainCfValueProblem(value, definedHere);
    if (why) out.push({ field: [...field, key], message: `${why}; Postfix would refuse this main.cf` });
  }
  return out;
}
