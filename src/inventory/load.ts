// Reads an inventory file, validates every level, merges defaults < group < host
// and returns one HostConfig per host. Any problem becomes an InventoryError
// that names file:line:column, the field and what is allowed. The roles and
// platforms it knows come from the catalog the caller passes.
import { readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { CatalogRole, HostConfig, Inventory, InventoryCatalog, RuleProblem } from "./catalog.ts";
import { valueAt } from "./describe.ts";
import { InventoryError, type InventoryProblem } from "./errors.ts";
import { mergeSettings } from "./merge.ts";
import { documentValue } from "./load/aliases.ts";
import { compile } from "./load/compiled.ts";
import { fileShape } from "./load/file-shape.ts";
import { zodProblems } from "./load/zod-problems.ts";
import { decodeInventory } from "./load/encoding.ts";
import { fieldName, type Path, type Positions } from "./load/positions.ts";
import { accepted, refuseAny } from "./load/problems.ts";
import { treeShapeProblems } from "./load/tree-shape.ts";
import { readYaml, syntaxProblems } from "./load/yaml-syntax.ts";
import { secretRefs } from "./secret-refs.ts";
import { isValidHostName, type InventorySchemas } from "./schema.ts";

export type { HostConfig, Inventory } from "./catalog.ts";
export { decodeInventory } from "./load/encoding.ts";
export { secretEnvNames, secretRefs } from "./secret-refs.ts";

export function catalogSchemas(catalog: InventoryCatalog): InventorySchemas {
  return compile(catalog).schemas;
}

function resolveLocal(dir: string, p: string): string {
  return path.isAbsolute(p) ? path.resolve(p) : path.resolve(dir, p);
}

/** An inventory larger than this is refused before it is parsed. */
const MAX_INVENTORY_BYTES = 16 << 20;

export interface LoadOptions {
  /**
   * The inventory is under review (a merge request): it may not make this
   * machine run anything, so { command } secrets and allowLocalCommands are refused.
   */
  untrusted?: boolean;
}

export function loadInventory(file: string, catalog: InventoryCatalog, opts: LoadOptions = {}): Inventory {
  const display = path.relative(process.cwd(), file) || file;
  let bytes: Buffer;
  try {
    if (statSync(file).size > MAX_INVENTORY_BYTES) {
      throw new InventoryError([{ file: display, line: 1, column: 1, field: "", message: `the inventory is larger than ${MAX_INVENTORY_BYTES >> 20} MiB` }]);
    }
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InventoryError([{ file: display, line: 1, column: 1, field: "", message: `cannot read the inventory (${code ?? String(e)})` }]);
  }
  return parseInventory(decodeInventory(bytes, display), file, catalog, opts);
}

interface Entry {
  name: string;
  group?: string;
  /** Where the host's settings are, most general first: defaults, group, host. */
  levels: Path[];
}

export function parseInventory(text: string, file: string, catalog: InventoryCatalog, opts: LoadOptions = {}): Inventory {
  const compiled = compile(catalog);
  const { schemas, index, roles } = compiled;
  const display = path.relative(process.cwd(), file) || file;
  const dir = path.dirname(path.resolve(file));
  const pos = readYaml(text, display);
  refuseAny(syntaxProblems(pos));
  refuseAny(treeShapeProblems(pos));
  const raw = accepted(documentValue(pos));
  const inv = accepted(fileShape(raw, compiled, pos));
  const problems: InventoryProblem[] = [];
  const hosts: HostConfig[] = [];
  const seen = new Map<string, string>();

  const entries: Entry[] = [];
  for (const [gname, group] of Object.entries(inv.groups ?? {})) {
    for (const hname of Object.keys(group.hosts ?? {})) {
      entries.push({ name: hname, group: gname, levels: [["defaults"], ["groups", gname], ["groups", gname, "hosts", hname]] });
    }
  }
  for (const hname of Object.keys(inv.hosts ?? {})) {
    entries.push({ name: hname, levels: [["defaults"], ["hosts", hname]] });
  }
  if (entries.length === 0) {
    const where = pos.has(["hosts"]) ? ["hosts"] : pos.has(["groups"]) ? ["groups"] : ["hosts"];
    problems.push({ ...pos.problem(where, "the inventory defines no hosts; add groups.<group>.hosts or hosts", true) });
  }
  const entryOf = new Map<string, Entry>();

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
    const result = schemas.hostConfig.safeParse(merged);
    if (!result.success) {
      // Point at the most specific level that sets the field, else at the host itself.
      const locate = (p: Path, keyOfLast: boolean) => {
        // a level that sets exactly this path: there, under that level's name
        for (let i = entry.levels.length - 1; i >= 0 && p.length > 0; i--) {
          const full = [...entry.levels[i]!, ...p];
          if (pos.has(full)) return { ...pos.at(full, keyOfLast), field: fieldName(full) };
        }
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
      // The merged host has a level's shape: describe it with the schema of a host entry.
      problems.push(...zodProblems(result.error, merged, { index: index(), schemaAt: ["hosts", entry.name], locate, file: display, prefix: hostPath }));
      continue;
    }
    /** A problem at `p` (under the host's settings), placed at the most specific level that sets it. */
    const placed = (p: Path, message: string) => {
      const lvl = [...entry.levels].reverse().find((l) => pos.has([...l, ...p])) ?? hostPath;
      return pos.problem([...lvl, ...p], message);
    };
    const cfg = result.data;
    if (cfg.transport.type === "local" && cfg.transport.root) cfg.transport.root = resolveLocal(dir, cfg.transport.root);
    // A root prefix is a sandbox (no owners, packages or services): one that is / would manage this machine without them.
    const root = cfg.transport.root;
    if (root !== undefined && root !== "") {
      let real = root;
      try {
        real = cfg.transport.type === "local" ? realpathSync(root) : root;
      } catch {
        // not there yet: the apply creates it
      }
      if (real === "/") {
        problems.push(
          placed(["transport", "root"], `root ${root === "/" ? "/" : `${root} (which is /)`} is the whole machine, not a sandbox; leave root out to manage the machine itself, with owners, packages and services`),
        );
        continue;
      }
    }
    // A key file is on this machine (relative to the inventory); a remote root prefix is a path on that host.
    const ssh = cfg.transport.type === "ssh" ? cfg.transport : cfg.transport.type === "zlogin" || cfg.transport.type === "jexec" ? cfg.transport.via : undefined;
    if (ssh?.identityFile) ssh.identityFile = resolveLocal(dir, ssh.identityFile);
    if (opts.untrusted) {
      const UNTRUSTED = "refused under --untrusted: an inventory under review may not run commands on this machine";
      const refused = [
        ...secretRefs(cfg).flatMap((s) => ("command" in s.ref ? [placed([...s.at, "command"], `a secret command is ${UNTRUSTED}`)] : [])),
        ...(cfg.transport.type === "ssh" && cfg.transport.allowLocalCommands ? [placed(["transport", "allowLocalCommands"], `allowLocalCommands is ${UNTRUSTED}`)] : []),
        ...((cfg.transport.type === "zlogin" || cfg.transport.type === "jexec") && cfg.transport.via?.allowLocalCommands
          ? [placed(["transport", "via", "allowLocalCommands"], `allowLocalCommands is ${UNTRUSTED}`)]
          : []),
      ];
      if (refused.length) {
        problems.push(...refused);
        continue;
      }
    }
    let missingSecret = false;
    for (const s of secretRefs(cfg)) {
      if (!("file" in s.ref)) continue;
      s.ref.file = resolveLocal(dir, s.ref.file);
      try {
        statSync(s.ref.file);
      } catch {
        problems.push(placed([...s.at, "file"], `secret file ${s.ref.file} does not exist; give a readable file (relative paths are relative to the inventory)`));
        missingSecret = true;
      }
    }
    if (missingSecret) continue;
    entryOf.set(entry.name, entry);
    hosts.push({
      ...cfg,
      name: entry.name,
      group: entry.group,
      fqdn: cfg.fqdn ?? `${entry.name}.${cfg.domain}`,
      inventoryFile: path.resolve(file),
      inventoryDir: dir,
    });
  }
  for (const h of hosts) problems.push(...roleRules(h, hosts, entryOf, roles, pos));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  // A fleet-level rule of two roles may find the same thing twice.
  const seenProblems = new Set<string>();
  for (let i = problems.length - 1; i >= 0; i--) {
    const key = JSON.stringify(problems[i]);
    if (seenProblems.has(key)) problems.splice(i, 1);
    seenProblems.add(key);
  }
  if (problems.length > 0) throw new InventoryError(problems);
  return { file: path.resolve(file), hosts };
}

/** The rules of the host's roles, and what holds for every role: each once, on a platform it supports, one of each exclusive group. */
function roleRules(h: HostConfig, fleet: readonly HostConfig[], entries: Map<string, Entry>, roles: Map<string, CatalogRole>, pos: Positions): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  const entry = entries.get(h.name)!;
  const hostPath = entry.levels.at(-1)!;
  const place = (p: RuleProblem) => {
    const at = (p.host && entries.get(p.host)) || entry;
    const level = p.field && [...at.levels].reverse().find((l) => pos.has([...l, ...p.field!]));
    out.push(level ? pos.problem([...level, ...p.field!], p.message) : pos.problem(at.levels.at(-1)!, p.message, true));
  };
  const rolesAt = [...entry.levels].reverse().find((l) => pos.has([...l, "roles"]));
  const placeRoles = (message: string) => out.push(rolesAt ? pos.problem([...rolesAt, "roles"], message) : pos.problem(hostPath, message, true));
  const listed = new Set<string>();
  const exclusive = new Map<string, string>();
  for (const name of h.roles) {
    const role = roles.get(name)!;
    if (listed.has(name)) {
      placeRoles(`role ${name} is listed twice for host ${h.name}; list each role once`);
      continue;
    }
    listed.add(name);
    if (!role.platforms.includes(h.platform)) {
      placeRoles(`role ${name} does not support platform ${h.platform}; it runs on ${role.platforms.join(", ")}`);
      continue;
    }
    if (role.exclusive) {
      const other = exclusive.get(role.exclusive);
      if (other) placeRoles(`roles ${other} and ${name} exclude each other (one ${role.exclusive.toUpperCase()} per host); keep one`);
      exclusive.set(role.exclusive, name);
    }
    for (const p of role.rules?.(h, fleet) ?? []) place(p);
  }
  return out;
}
