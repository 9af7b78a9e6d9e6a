// A mutation campaign against the loader: hundreds of inventories made from
// the examples by a deterministic generator (seeded), each parsed and
// validated as `mailfleet validate` does. Every one must be accepted, or
// refused with problems that name file:line:column and the field (or say
// the file is not UTF-8 YAML) in printable text: never any other exception.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { desiredState } from "../../src/engine/desired.ts";
import { parseInventory } from "../../src/engine/inventory.ts";
import { InventoryError, formatProblem } from "../../src/inventory/errors.ts";
import { decodeInventory } from "../../src/inventory/load.ts";
import { maskingResolver } from "../../src/inventory/secrets.ts";
import { REPO } from "../support/cli.ts";
import { seededRandom } from "../support/random.ts";

const SEED = 20261201;
const MUTANTS = 600;

const HOSTILE_VALUES = [
  '"a\\nb"',
  '"$(touch /tmp/mf-pwned)"',
  "'it''s'",
  `"${"x".repeat(5000)}"`,
  '"wéb ☃"',
  "null",
  "~",
  "[]",
  "{}",
  "[a, [b, [c]]]",
  "{ a: { b: { c: d } } }",
  "-1",
  "0x10",
  "1e400",
  ".nan",
  "true",
  "*undefined_anchor",
  "&anchor value",
  "!!binary aGVsbG8=",
  "!custom x",
  '"\\u0000"',
  '"\\e[31mred"',
  "|\n  block\n  text",
  "'#not a comment'",
  "{ env: X }",
  "{ file: /dev/null }",
  "{ command: true }",
];
const HOSTILE_KEYS = ['"web1\\n"', '"#hash"', "<<", "? [a, b]", '"ключ"', '"a b"', '"\\e[2J"', "''", "-", "hosts", "transport", "type"];
const HOSTILE_CHARS = ['"', "'", "{", "}", "[", "]", "&", "*", "!", "|", ">", "%", "@", "`", "#", ":", ",", "-", "?", "\t", "\n", "\r", "\0", "\x1b", "\u2028", "é", "\ufeff"];

type Mutant = { name: string; data: string | Buffer };

function mutate(text: string, rnd: () => number, n: number): Mutant {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const lines = text.split("\n");
  const li = Math.floor(rnd() * lines.length);
  const at = Math.floor(rnd() * (text.length + 1));
  const op = n % 16;
  const withLine = (l: string[]) => l.join("\n");
  switch (op) {
    case 0:
      return { name: `delete line ${li + 1}`, data: withLine(lines.filter((_, i) => i !== li)) };
    case 1:
      return { name: `repeat line ${li + 1}`, data: withLine([...lines.slice(0, li + 1), lines[li]!, ...lines.slice(li + 1)]) };
    case 2: {
      const d = pick([-2, -1, 1, 2, 3]);
      const l = lines[li]!;
      return { name: `indent line ${li + 1} by ${d}`, data: withLine(lines.map((x, i) => (i === li ? (d > 0 ? " ".repeat(d) + l : l.slice(-d)) : x))) };
    }
    case 3:
      return { name: `cut at ${at}`, data: text.slice(0, at) };
    case 4: {
      const c = pick(HOSTILE_CHARS);
      return { name: `insert ${JSON.stringify(c)} at ${at}`, data: text.slice(0, at) + c + text.slice(at) };
    }
    case 5:
    case 6: {
      const l = lines[li]!;
      const m = /^(\s*(?:- )?[^:#]+:)\s*(.*)$/.exec(l);
      if (!m) return { name: `swap lines ${li + 1}`, data: withLine([...lines.slice(0, li), lines[li + 1] ?? "", l, ...lines.slice(li + 2)]) };
      const v = pick(HOSTILE_VALUES);
      return { name: `value of line ${li + 1} := ${v.slice(0, 30)}`, data: withLine(lines.map((x, i) => (i === li ? `${m[1]} ${v}` : x))) };
    }
    case 7: {
      const l = lines[li]!;
      const m = /^(\s*)([A-Za-z0-9_.-]+):(.*)$/.exec(l);
      const k = pick(HOSTILE_KEYS);
      if (!m) return { name: `append key ${k}`, data: `${text}\n${k}: x\n` };
      return { name: `key of line ${li + 1} := ${k}`, data: withLine(lines.map((x, i) => (i === li ? `${m[1]}${k}:${m[3]}` : x))) };
    }
    case 8: {
      const depth = pick([20, 40, 200, 2000]);
      const nest = rnd() < 0.5 ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${"{a: ".repeat(depth)}x${"}".repeat(depth)}`;
      const l = lines[li]!;
      const m = /^(\s*[^:#\s][^:#]*:)/.exec(l);
      return { name: `nest ${depth} deep at line ${li + 1}`, data: m ? withLine(lines.map((x, i) => (i === li ? `${m[1]} ${nest}` : x))) : `${text}\nx: ${nest}\n` };
    }
    case 9: {
      const w = pick([3, 9, 30]);
      const bomb = [`lol0: &l0 [${Array(w).fill("lol").join(", ")}]`];
      for (let i = 1; i < 6; i++) bomb.push(`lol${i}: &l${i} [${Array(w).fill(`*l${i - 1}`).join(", ")}]`);
      return { name: `alias bomb of width ${w}`, data: `${bomb.join("\n")}\n${text}\nbomb: *l5\n` };
    }
    case 10:
      return { name: `alias to an anchor defined later at line ${li + 1}`, data: withLine(lines.map((x, i) => (i === li ? x.replace(/:\s+(\S.*)$/, ": *later") : x))) + "\nlater: &later x\n" };
    case 11:
      return { name: "UTF-16LE with a BOM", data: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]) };
    case 12:
      return { name: pick(["UTF-16BE without a BOM", "UTF-32", "Latin-1 bytes"]) === "UTF-32" ? "UTF-32" : "Latin-1 bytes", data: Buffer.from(`${text}# caf\xe9\n`, "latin1") };
    case 13:
      return { name: `tab indent at line ${li + 1}`, data: withLine(lines.map((x, i) => (i === li ? x.replace(/^ {2}/, "\t") : x))) };
    case 14:
      return { name: "two documents", data: `${text}\n---\n${text}` };
    default: {
      // two mutations at once
      const a = mutate(text, rnd, n + 1 + Math.floor(rnd() * 10));
      return typeof a.data === "string" ? { name: `${a.name}; then ${mutate(a.data, rnd, n + 3).name}`, data: mutate(a.data, rnd, n + 3).data } : a;
    }
  }
}

const EXAMPLES = ["examples/zones.yaml", "examples/sandbox-fleet.yaml"].map((f) => readFileSync(path.join(REPO, f), "utf8"));
// parsed as if it lay beside the examples (their secrets/ exist); nothing is written
const FILE = path.join(REPO, "examples/mutant.yaml");

type Outcome = { kind: "accepted" } | { kind: "refused"; problems: InventoryError["problems"]; text: string } | { kind: "internal"; error: unknown };

function validate(data: string | Buffer): Outcome {
  try {
    const text = typeof data === "string" ? decodeInventory(Buffer.from(data, "utf8"), "mutant.yaml") : decodeInventory(data, "mutant.yaml");
    const inv = parseInventory(text, FILE);
    for (const h of inv.hosts) desiredState(h, maskingResolver, inv.hosts);
    return { kind: "accepted" };
  } catch (e) {
    if (e instanceof InventoryError) return { kind: "refused", problems: e.problems, text: e.problems.map(formatProblem).join("\n") };
    return { kind: "internal", error: e };
  }
}

/** What a refusal is about, for the report. */
function category(message: string): string {
  if (message.startsWith("the file is not UTF-8 YAML")) return "not UTF-8";
  if (/^YAML: aliases expand/.test(message)) return "alias bomb";
  if (/^YAML: alias \*/.test(message)) return "undefined alias";
  if (/nested (too deeply|more than)/.test(message)) return "too deep";
  if (message.startsWith("YAML: Map keys must be unique")) return "duplicate key";
  if (message.startsWith("YAML: ")) return "YAML syntax";
  if (/^unknown key/.test(message)) return "unknown key";
  if (/is required/.test(message)) return "missing setting";
  if (/host name/.test(message)) return "host name";
  return "invalid value";
}

describe(`mutation campaign: ${MUTANTS} inventories from the examples (seed ${SEED})`, () => {
  it("0 internal errors; every refusal positioned, naming the field (or not UTF-8), printable", () => {
    const rnd = seededRandom(SEED);
    const counts: Record<string, number> = {};
    const bad: string[] = [];
    let accepted = 0;
    for (let n = 0; n < MUTANTS; n++) {
      const base = EXAMPLES[n % EXAMPLES.length]!;
      const m = mutate(base, rnd, n);
      const lineCount = (typeof m.data === "string" ? m.data : m.data.toString("latin1")).split("\n").length;
      const o = validate(m.data);
      if (o.kind === "accepted") {
        accepted++;
        continue;
      }
      if (o.kind === "internal") {
        bad.push(`#${n} ${m.name}: internal error ${(o.error as Error).stack?.split("\n").slice(0, 3).join(" | ")}`);
        continue;
      }
      for (const p of o.problems) {
        const c = category(p.message);
        counts[c] = (counts[c] ?? 0) + 1;
        const why = [
          !(p.line >= 1 && p.line <= lineCount + 1) && `line ${p.line} of ${lineCount}`,
          !(p.column >= 1) && `column ${p.column}`,
          !p.field && c !== "not UTF-8" && "no field",
        ].filter(Boolean);
        if (why.length) bad.push(`#${n} ${m.name}: ${why.join(", ")}: ${formatProblem(p)}`);
      }
      if (/[\u0000-\u0009\u000b-\u001f\u007f\u2028]/.test(o.text)) bad.push(`#${n} ${m.name}: raw control character in ${JSON.stringify(o.text)}`);
    }
    const refused = MUTANTS - accepted - bad.filter((b) => b.includes("internal error")).length;
    console.info(`mutation campaign (seed ${SEED}): ${MUTANTS} mutants, ${accepted} accepted, ${refused} refused; problems by kind: ${JSON.stringify(counts)}`);
    expect(bad.slice(0, 20)).toEqual([]);
  });
});
