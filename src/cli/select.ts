// --limit: which hosts a run takes. Patterns are globs as picomatch (the
// matcher of the JS tooling) reads them: `*`, `?`, `[12]`, `{1..3}`, matched
// against host and group names. The patterns add up, so a leading `!` is
// read as a character (no host name has one), not as "all but".
import picomatch from "picomatch";
import type { HostConfig } from "../inventory/catalog.ts";

export class SelectionError extends Error {
  override name = "SelectionError";
}

/** --limit: host or group names, globs allowed, comma-separated or repeated. */
export function selectHosts(hosts: HostConfig[], limits: string[]): HostConfig[] {
  const patterns = limits.flatMap((l) => l.split(",")).map((s) => s.trim()).filter(Boolean);
  if (patterns.length === 0) return hosts;
  const out = new Set<HostConfig>();
  for (const p of patterns) {
    const matches = picomatch(p, { dot: true, nonegate: true });
    const hit = hosts.filter((h) => matches(h.name) || (h.group !== undefined && matches(h.group)));
    if (hit.length === 0) {
      throw new SelectionError(`--limit ${p} matches no host or group (hosts: ${hosts.map((h) => h.name).join(", ")})`);
    }
    hit.forEach((h) => out.add(h));
  }
  return hosts.filter((h) => out.has(h));
}
