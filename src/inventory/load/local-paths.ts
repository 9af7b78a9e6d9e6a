// Paths on the machine running mailfleet are relative to the inventory's
// directory: a local root prefix, an ssh key file, a secret file. They are
// made absolute once the host is merged, so every later check and every
// message names the file that is meant. A path on a remote host (an ssh root
// prefix) is left as it is.
import path from "node:path";
import { secretRefs } from "../secret-refs.ts";
import type { HostSettings } from "./host-merge.ts";

export function resolveLocal(dir: string, p: string): string {
  return path.isAbsolute(p) ? path.resolve(p) : path.resolve(dir, p);
}

/** Makes the host's local paths absolute, relative to `dir` (the inventory's directory). */
export function resolveLocalPaths(host: HostSettings, dir: string): void {
  const t = host.transport;
  if (t.type === "local" && t.root) t.root = resolveLocal(dir, t.root);
  const ssh = t.type === "ssh" ? t : t.type === "zlogin" || t.type === "jexec" ? t.via : undefined;
  if (ssh?.identityFile) ssh.identityFile = resolveLocal(dir, ssh.identityFile);
  for (const s of secretRefs(host)) if ("file" in s.ref) s.ref.file = resolveLocal(dir, s.ref.file);
}
