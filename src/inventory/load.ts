// Reads an inventory file, validates every level, merges defaults < group < host
// and returns one HostConfig per host. Any problem becomes an InventoryError
// that names file:line:column, the field and what is allowed.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import YAML, { LineCounter, isMap, isScalar, type Document, type Node } from "yaml";
import type { z } from "zod";
import { InventoryError, describeIssue, type InventoryProblem } from "./errors.ts";
import { mergeSettings } from "./merge.ts";
import { hostConfig, inventoryFile, isValidHostName, type HostSettings, type InventoryFile } from "./schema.ts";
import type { SecretRef } from "./fields.ts";
import { nullmailerRules } from "../../roles/nullmailer/rules.ts";
import { postfixSatelliteRequirements } from "../../roles/postfix-satellite/requirements.ts";

export interface HostConfig extends HostSettings {
  name: string;
  group?: string;
  /** The host's full name: fqdn if set, else <name>.<domain>. */
  fqdn: string;
  inventoryFile: string;
  inventoryDir: string;
}

export interface Inventory {
  file: string;
  hosts: HostConfig[];
}

type Path = (string | number)[];

class Positions {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
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
    const offset = best?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  problem(p: Path, message: string, keyOfLast = false): InventoryProblem {
    return { file: this.file, ...this.at(p, keyOfLast), field: p.join("."), message };
  }

  has(p: Path): boolean {
    return this.doc.hasIn(p);
  }
}

function valueAt(root: unknown, p: Path): unknown {
  let v: unknown = root;
  for (const k of p) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** Keys an object schema allows at a path, for "unknown key" messages. */
function allowedKeys(schema: z.ZodType, p: Path): string[] | undefined {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { _zod?: { def?: Record<string, unknown> } };
    for (let i = 0; i < 8; i++) {
      const def = cur?._zod?.def;
      if (!def) return cur;
      if (def.type === "optional" || def.type === "nullable" || def.type === "default") cur = def.innerType as typeof cur;
      else return cur;
    }
    return cur;
  };
  for (const k of p) {
    s = unwrap(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) return undefined;
    if (def.type === "object") s = (def.shape as Record<string, unknown>)[String(k)];
    else if (def.type === "record") s = def.valueType;
    else if (def.type === "array") s = def.element;
    else if (def.type === "union") {
      const opts = def.options as unknown[];
      s = opts.map((o) => (unwrap(o) as { _zod: { def: { shape?: Record<string, unknown> } } })._zod.def.shape?.[String(k)]).find(Boolean);
    } else return undefined;
  }
  s = unwrap(s);
  const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  if (def?.type === "object") return Object.keys(def.shape as object);
  if (def?.type === "union") {
    const keys = new Set<string>();
    for (const o of def.options as unknown[]) {
      const sh = (unwrap(o) as { _zod: { def: { shape?: object } } })._zod.def.shape;
      if (sh) Object.keys(sh).forEach((x) => keys.add(x));
    }
    return [...keys];
  }
  return undefined;
}

function zodProblems(
  error: z.ZodError,
  schema: z.ZodType,
  data: unknown,
  locate: (p: Path, keyOfLast: boolean) => { line: number; column: number },
  file: string,
  prefix: Path,
): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  for (const issue of error.issues) {
    const p = issue.path.map((x) => (typeof x === "symbol" ? String(x) : x)) as Path;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const full = [...p, key];
        out.push({
          file,
          ...locate(full, true),
          field: [...prefix, ...full].join("."),
          message: describeIssue({ ...issue, keys: [key] }, undefined, allowedKeys(schema, p)),
        });
      }
      continue;
    }
    out.push({
      file,
      ...locate(p, false),
      field: [...prefix, ...p].join("."),
      message: describeIssue(issue, valueAt(data, p)),
    });
  }
  return out;
}

function resolveLocal(dir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(dir, p);
}

function resolveSecretPaths(ref: SecretRef, dir: string): SecretRef {
  return "file" in ref ? { file: resolveLocal(dir, ref.file) } : ref;
}

export function loadInventory(file: string): Inventory {
  const display = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InventoryError([{ file: display, line: 1, column: 1, field: "", message: `cannot read the inventory (${code ?? String(e)})` }]);
  }
  return parseInventory(text, file);
}

export function parseInventory(text: string, file: string): Inventory {
  const display = path.relative(process.cwd(), file) || file;
  const dir = path.dirname(path.resolve(file));
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InventoryError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        return { file: display, line: pos.line, column: pos.col, field: "", message: `YAML: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  const pos = new Positions(display, doc, lines);
  const raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = inventoryFile.safeParse(raw);
  if (!parsed.success) {
    const problems = zodProblems(parsed.error, inventoryFile, raw, (p, k) => pos.at(p, k), display, []);
    throw new InventoryError(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  const inv: InventoryFile = parsed.data;
  const problems: InventoryProblem[] = [];
  const hosts: HostConfig[] = [];
  const seen = new Map<string, string>();

  const entries: { name: string; group?: string; levels: Path[] }[] = [];
  for (const [gname, group] of Object.entries(inv.groups ?? {})) {
    for (const hname of Object.keys(group.hosts ?? {})) {
      entries.push({ name: hname, group: gname, levels: [["defaults"], ["groups", gname], ["groups", gname, "hosts", hname]] });
    }
  }
  for (const hname of Object.keys(inv.hosts ?? {})) {
    entries.push({ name: hname, levels: [["defaults"], ["hosts", hname]] });
  }
  if (entries.length === 0) {
    problems.push(pos.problem([], "the inventory defines no hosts; add groups.<group>.hosts or hosts"));
  }

  for (const entry of entries) {
    const hostPath = entry.levels[entry.levels.length - 1]!;
    if (!isValidHostName(entry.name)) {
      problems.push(pos.problem(hostPath, `host name '${entry.name}' is not allowed; letters, digits, '.', '_' and '-' (up to 63)`, true));
      continue;
    }
    const where = entry.group ? `group ${entry.group}` : "hosts";
    const prev = seen.get(entry.name);
    if (prev) {
      problems.push(pos.problem(hostPath, `host '${entry.name}' is defined twice (in ${prev} and ${where})`, true));
      continue;
    }
    seen.set(entry.name, where);
    const levelValues = entry.levels.map((lp) => {
      const v = valueAt(inv, lp) as Record<string, unknown> | null | undefined;
      if (!v) return v;
      const { hosts: _hosts, ...rest } = v;
      return rest;
    });
    const merged = mergeSettings(...levelValues);
    const result = hostConfig.safeParse(merged);
    if (!result.success) {
      // Point at the most specific level that sets the field, else at the host itself.
      const locate = (p: Path, keyOfLast: boolean) => {
        for (let i = entry.levels.length - 1; i >= 0; i--) {
          const full = [...entry.levels[i]!, ...p];
          if (p.length > 0 && pos.has(full.slice(0, entry.levels[i]!.length + 1))) {
            // deepest existing prefix within this level
            let k = full.length;
            while (k > entry.levels[i]!.length + 1 && !pos.has(full.slice(0, k))) k--;
            return pos.at(full.slice(0, k), keyOfLast && k === full.length);
          }
        }
        return pos.at(hostPath, true);
      };
      problems.push(...zodProblems(result.error, hostConfig, merged, locate, display, hostPath));
      continue;
    }
    const cfg = result.data;
    if (cfg.transport.type === "local" && cfg.transport.root) cfg.transport.root = resolveLocal(dir, cfg.transport.root);
    // A key file is on this machine (relative to the inventory); a remote root prefix is a path on that host.
    const ssh = cfg.transport.type === "ssh" ? cfg.transport : cfg.transport.type === "zlogin" ? cfg.transport.via : undefined;
    if (ssh?.identityFile) ssh.identityFile = resolveLocal(dir, ssh.identityFile);
    const secrets: { at: Path; auth: { password: SecretRef } }[] = [];
    if (cfg.relay?.auth) secrets.push({ at: ["relay", "auth"], auth: cfg.relay.auth });
    for (const [sender, auth] of Object.entries(cfg.postfix?.senderAuth ?? {})) secrets.push({ at: ["postfix", "senderAuth", sender], auth });
    let missingSecret = false;
    for (const s of secrets) {
      s.auth.password = resolveSecretPaths(s.auth.password, dir);
      const ref = s.auth.password;
      if (!("file" in ref)) continue;
      try {
        statSync(ref.file);
      } catch {
        const p = [...s.at, "password", "file"];
        const lvl = [...entry.levels].reverse().find((l) => pos.has([...l, ...p])) ?? hostPath;
        problems.push(pos.problem([...lvl, ...p], `secret file ${ref.file} does not exist; give a readable file (relative paths are relative to the inventory)`));
        missingSecret = true;
      }
    }
    if (missingSecret) continue;
    hosts.push({
      ...cfg,
      name: entry.name,
      group: entry.group,
      fqdn: cfg.fqdn ?? `${entry.name}.${cfg.domain}`,
      inventoryFile: path.resolve(file),
      inventoryDir: dir,
    });
  }
  problems.push(...roleRequirements(hosts, pos, entries));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  if (problems.length > 0) throw new InventoryError(problems);
  return { file: path.resolve(file), hosts };
}

/** Cross-field rules that a per-field schema cannot say; each problem is placed at the field it names, at the level that sets it. */
function roleRequirements(hosts: HostConfig[], pos: Positions, entries: { name: string; levels: Path[] }[]): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  for (const h of hosts) {
    const levels = entries.find((e) => e.name === h.name)!.levels;
    const hostPath = levels.at(-1)!;
    const place = (field: string[] | undefined, message: string) => {
      const level = field && [...levels].reverse().find((l) => pos.has([...l, ...field]));
      out.push(level ? pos.problem([...level, ...field!], message) : pos.problem(hostPath, message, true));
    };
    if (h.roles.includes("nullmailer")) for (const p of nullmailerRules(h)) place(p.field, p.message);
    if (h.roles.includes("postfix-satellite")) out.push(...postfixSatelliteRequirements(h).map((m) => pos.problem(hostPath, m, true)));
  }
  return out;
}
