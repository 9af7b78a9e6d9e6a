// `synth --split-by`: which stack each host goes to, so separate CI runners
// can apply parts of a big fleet in parallel, each part with its own state
// and lock. Pure.
import picomatch from "picomatch";
import type { HostConfig } from "../src/inventory/catalog.ts";
import { StackError } from "./backend.ts";

/** `group`: a stack per inventory group; or named parts, each a list of host/group globs. */
export type SplitRule = { by: "group" } | { by: "pattern"; parts: { name: string; patterns: string[] }[] };

export interface StackPart {
  /** The stack's name: `<base>-<part>`. */
  stack: string;
  /** The part's own name (the group, or the name given with --split-by NAME=...). */
  part: string;
  hosts: HostConfig[];
}

const PART_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/;

/** `--split-by group` or `--split-by NAME=GLOBS` (repeatable, globs comma-separated). */
export function parseSplitRule(values: readonly string[]): SplitRule | undefined {
  if (values.length === 0) return undefined;
  if (values.length === 1 && values[0] === "group") return { by: "group" };
  const parts = values.map((v) => {
    const eq = v.indexOf("=");
    const name = eq > 0 ? v.slice(0, eq).trim() : "";
    const patterns = v.slice(eq + 1).split(",").map((p) => p.trim()).filter(Boolean);
    if (v === "group") throw new StackError("--split-by group cannot be combined with --split-by NAME=PATTERNS");
    if (!PART_NAME.test(name) || patterns.length === 0) {
      throw new StackError(`--split-by ${JSON.stringify(v)}: expected 'group' or NAME=PATTERNS (a name of letters, digits, '_' or '-', then host or group globs, comma-separated), e.g. --split-by zones='zone*'`);
    }
    return { name, patterns };
  });
  const seen = new Set<string>();
  for (const p of parts) {
    if (seen.has(p.name)) throw new StackError(`--split-by ${p.name}=... is given twice; each part needs its own name`);
    seen.add(p.name);
  }
  return { by: "pattern", parts };
}

/** Every host in exactly one part; a host two parts claim, or none, is an error naming it. */
export function splitHosts(base: string, hosts: readonly HostConfig[], rule: SplitRule): StackPart[] {
  const partOf = new Map<HostConfig, string[]>();
  if (rule.by === "group") {
    const loose = hosts.filter((h) => h.group === undefined).map((h) => h.name);
    if (loose.length) throw new StackError(`--split-by group: ${list(loose)} belong${loose.length === 1 ? "s" : ""} to no group; put ${loose.length === 1 ? "it" : "them"} in one or split with --split-by NAME=PATTERNS`);
    for (const h of hosts) partOf.set(h, [h.group!]);
  } else {
    for (const p of rule.parts) {
      const matchers = p.patterns.map((g) => picomatch(g, { dot: true, nonegate: true }));
      const hit = hosts.filter((h) => matchers.some((m) => m(h.name) || (h.group !== undefined && m(h.group))));
      if (hit.length === 0) throw new StackError(`--split-by ${p.name}=${p.patterns.join(",")} matches no host or group`);
      for (const h of hit) partOf.set(h, [...(partOf.get(h) ?? []), p.name]);
    }
    const twice = hosts.filter((h) => (partOf.get(h)?.length ?? 0) > 1);
    if (twice.length) {
      throw new StackError(`--split-by: a host is in one stack only; ${twice.map((h) => `${h.name} is in ${partOf.get(h)!.join(" and ")}`).join(", ")}`);
    }
    const none = hosts.filter((h) => !partOf.has(h)).map((h) => h.name);
    if (none.length) throw new StackError(`--split-by: ${list(none)} ${none.length === 1 ? "is" : "are"} in no part; add ${none.length === 1 ? "it" : "them"} to one (every host needs a stack)`);
  }
  const parts = new Map<string, StackPart>();
  const stackNames = new Map<string, string>();
  for (const h of hosts) {
    const part = partOf.get(h)![0]!;
    let sp = parts.get(part);
    if (!sp) {
      const stack = `${base}-${part.replace(/[^A-Za-z0-9_-]/g, "_")}`;
      const clash = stackNames.get(stack);
      if (clash !== undefined) throw new StackError(`--split-by: the parts ${clash} and ${part} would share the stack name ${stack}`);
      if (stack.length > 64) throw new StackError(`--split-by: the stack name ${stack} is longer than 64 characters; use a shorter --stack or part name`);
      stackNames.set(stack, part);
      sp = { stack, part, hosts: [] };
      parts.set(part, sp);
    }
    sp.hosts.push(h);
  }
  return [...parts.values()];
}

function list(names: readonly string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
}
