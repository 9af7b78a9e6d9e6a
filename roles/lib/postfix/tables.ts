// Postfix lookup tables and the configuration check, shared by the Postfix
// roles: a table is its source file plus the postmap run that indexes it when
// the source changed (or its index is missing or older).
import path from "node:path";
import type { CommandResource, FileResource, Resource } from "../../../src/resources/types.ts";
import { sh, type Sh } from "../../../src/shell/builder.ts";
import type { PostfixData } from "./platforms.ts";

export interface Tables {
  /** The resources of every table, in order: each source, then its postmap. */
  resources: Resource[];
  /**
   * A table named `name` in the config directory with `content`, or none
   * (undefined: the source and its index are removed, kept as backups).
   * Returns the main.cf value (`hash:/etc/postfix/name`) or undefined.
   */
  table(name: string, content: string | undefined, mode: number, extra?: Partial<FileResource>): string | undefined;
}

export function postfixTables(pf: PostfixData, mapType: "hash" | "lmdb"): Tables {
  const dbSuffix = mapType === "lmdb" ? ".lmdb" : ".db";
  const resources: Resource[] = [];
  return {
    resources,
    table(name, content, mode, extra = {}) {
      const source = path.posix.join(pf.configDir, name);
      const db = `${source}${dbSuffix}`;
      if (content === undefined) {
        resources.push({ kind: "file", id: `postfix:${name}`, path: source, content: "", mode, owner: "root", group: "root", state: "absent" });
        resources.push({ kind: "file", id: `postfix:${name}${dbSuffix}`, path: db, content: "", mode, owner: "root", group: "root", state: "absent" });
        return undefined;
      }
      resources.push({ kind: "file", id: `postfix:${name}`, path: source, content, mode, owner: "root", group: "root", ...extra });
      const postmap: CommandResource = {
        kind: "command",
        id: `postfix:postmap-${name}`,
        description: `postmap ${source}`,
        // postmap gives the output the source's owner and mode (so 0600 stays 0600); never -p.
        command: sh`${pf.postmap} -c ${pf.configDir} ${`${mapType}:${source}`}`,
        inputs: [`postfix:${name}`],
        sources: [source],
        creates: [{ path: db, mode, owner: "root", group: "root" }],
      };
      resources.push(postmap);
      return `${mapType}:${source}`;
    },
  };
}

/** `postfix check`, and no warning from `postconf -n` (a misspelt parameter shows as "unused parameter"): run before a reload. */
export function postfixCheck(pf: PostfixData): Sh {
  return sh`${pf.postfix} -c ${pf.configDir} check && ! ${pf.postconf} -c ${pf.configDir} -n 2>&1 >/dev/null | grep 'warning:' >&2`;
}
