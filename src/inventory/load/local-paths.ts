// Paths on the machine running mailfleet are relative to the inventory's
// directory: a secret file, and the fields of the host's transport that its
// schema types as local paths (a local root prefix, an ssh key file, also
// that of a parent host). They are made absolute once the host is merged,
// so every later check and every message names the file that is meant. A
// path on a remote host (an ssh root prefix) is left as it is.
import path from "node:path";
import { valueAt } from "../describe.ts";
import { secretRefs } from "../secret-refs.ts";
import type { TransportFacts } from "./compiled.ts";
import type { HostSettings } from "./host-merge.ts";

export function resolveLocal(dir: string, p: string): string {
  return path.isAbsolute(p) ? path.resolve(p) : path.resolve(dir, p);
}

/** Makes the host's local paths absolute, relative to `dir` (the inventory's directory). */
export function resolveLocalPaths(host: HostSettings, transport: TransportFacts, dir: string): void {
  for (const p of transport.localPaths) {
    const holder = valueAt(host.transport, p.slice(0, -1)) as Record<string | number, unknown> | undefined;
    const v = holder?.[p.at(-1)!];
    if (typeof v === "string" && v !== "") holder![p.at(-1)!] = resolveLocal(dir, v);
  }
  for (const s of secretRefs(host)) if ("file" in s.ref) s.ref.file = resolveLocal(dir, s.ref.file);
}
