// Reads an inventory file, validates every level, merges defaults < group < host
// and returns one HostConfig per host. Any problem becomes an InventoryError
// that names file:line:column, the field and what is allowed. The roles and
// platforms it knows come from the catalog the caller passes. Each check is a
// module of load/; this file only puts them in order.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { HostConfig, Inventory, InventoryCatalog } from "./catalog.ts";
import { InventoryError, InventoryFileError } from "./errors.ts";
import { documentValue } from "./load/aliases.ts";
import { compile, type CompiledCatalog } from "./load/compiled.ts";
import { decodeInventory } from "./load/encoding.ts";
import { fileShape } from "./load/file-shape.ts";
import type { HostCheck, HostUnderCheck } from "./load/host-check.ts";
import { HostNames, hostEntries, noHostsProblems, type HostEntry } from "./load/host-entries.ts";
import { mergedHost, type HostSettings } from "./load/host-merge.ts";
import { resolveLocalPaths } from "./load/local-paths.ts";
import type { Positions } from "./load/positions.ts";
import { accepted, inFileOrder, refuseAny, withoutRepeats, type Checked } from "./load/problems.ts";
import { roleProblems } from "./load/role-rules.ts";
import { sandboxRootProblems } from "./load/sandbox-root.ts";
import { missingSecretFiles } from "./load/secret-files.ts";
import { deepTextProblems, treeShapeProblems } from "./load/tree-shape.ts";
import { untrustedProblems } from "./load/untrusted.ts";
import { unusedSettings } from "./load/unused-settings.ts";
import { readYaml, syntaxProblems } from "./load/yaml-syntax.ts";
import type { InventoryFile, InventorySchemas } from "./schema.ts";

export type { HostConfig, Inventory } from "./catalog.ts";
export { decodeInventory } from "./load/encoding.ts";
export { secretEnvNames, secretRefs } from "./secret-refs.ts";

export function catalogSchemas(catalog: InventoryCatalog): InventorySchemas {
  return compile(catalog).schemas;
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

/** Why the inventory file could not be read, naming the path it was looked for at. */
function unreadable(file: string, code: string): InventoryFileError {
  const abs = path.resolve(file);
  const why: Record<string, string> = {
    ENOENT: `no inventory file ${abs}: it does not exist`,
    ENOTDIR: `no inventory file ${abs}: a part of its path is not a directory`,
    EISDIR: `the inventory ${abs} is a directory; name the YAML file in it`,
    EACCES: `cannot read the inventory ${abs}: permission denied`,
  };
  return new InventoryFileError(why[code] ?? `cannot read the inventory ${abs} (${code})`, abs, code);
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
    throw unreadable(file, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  return parseInventory(decodeInventory(bytes, display), file, catalog, opts);
}

interface Loading {
  inv: InventoryFile;
  compiled: CompiledCatalog;
  pos: Positions;
  /** The inventory's directory: local paths are relative to it. */
  dir: string;
  names: HostNames;
  /** The checks of a merged host, in order: the first that finds something stops the host. */
  checks: HostCheck[];
}

/** One host of the file: its name, its settings merged, its local paths resolved, then each check until one finds something. */
function checkedHost(entry: HostEntry, { inv, compiled, pos, dir, names, checks }: Loading): Checked<HostSettings> {
  const named = names.problems(entry);
  if (named.length) return { problems: named };
  const merged = mergedHost(entry, inv, compiled, pos);
  if (merged.problems) return merged;
  const host: HostUnderCheck = { settings: merged.value, entry, pos, transport: compiled.transports.get(merged.value.transport.type)! };
  resolveLocalPaths(host.settings, host.transport, dir);
  for (const check of checks) {
    const found = check(host);
    if (found.length) return { problems: found };
  }
  return merged;
}

export function parseInventory(text: string, file: string, catalog: InventoryCatalog, opts: LoadOptions = {}): Inventory {
  const compiled = compile(catalog);
  const dir = path.dirname(path.resolve(file));
  const display = path.relative(process.cwd(), file) || file;
  refuseAny(deepTextProblems(text, display));
  const pos = readYaml(text, display);
  refuseAny(syntaxProblems(pos));
  refuseAny(treeShapeProblems(pos));
  const inv = accepted(fileShape(accepted(documentValue(pos)), compiled, pos));
  const entries = hostEntries(inv);
  const problems = noHostsProblems(entries, pos);
  const checks = [sandboxRootProblems, ...(opts.untrusted ? [untrustedProblems] : []), missingSecretFiles];
  const loading: Loading = { inv, compiled, pos, dir, names: new HostNames(pos), checks };
  const hosts: HostConfig[] = [];
  const entryOf = new Map<string, HostEntry>();
  for (const entry of entries) {
    const host = checkedHost(entry, loading);
    if (host.problems) {
      problems.push(...host.problems);
      continue;
    }
    const cfg = host.value;
    entryOf.set(entry.name, entry);
    hosts.push({ ...cfg, name: entry.name, group: entry.group, fqdn: cfg.fqdn ?? `${entry.name}.${cfg.domain}`, inventoryFile: path.resolve(file), inventoryDir: dir });
  }
  for (const h of hosts) problems.push(...roleProblems(h, hosts, entryOf, compiled.roles, pos));
  const unused = unusedSettings(hosts, entryOf, compiled.roles, pos);
  problems.push(...unused.problems);
  refuseAny(withoutRepeats(inFileOrder(problems)));
  return { file: path.resolve(file), hosts, warnings: inFileOrder(unused.warnings) };
}
