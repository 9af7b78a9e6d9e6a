import type { HostConfig } from "../inventory/catalog.ts";

export class SelectionError extends Error {
  override name = "SelectionError";
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`);
}

/** --limit: host or group names, globs allowed, comma-separated or repeated. */
export function selectHosts(hosts: HostConfig[], limits: string[]): HostConfig[] {
  const patterns = limits.flatMap((l) => l.split(",")).map((s) => s.trim()).filter(Boolean);
  if (patterns.length === 0) return hosts;
  const out = new Set<HostConfig>();
  for (const p of patterns) {
    const re = globToRegExp(p);
    const hit = hosts.filter((h) => re.test(h.name) || (h.group !== undefined && re.test(h.group)));
    if (hit.length === 0) {
      throw new SelectionError(`--limit ${p} matches no host or group (hosts: ${hosts.map((h) => h.name).join(", ")})`);
    }
    hit.forEach((h) => out.add(h));
  }
  return hosts.filter((h) => out.has(h));
}
