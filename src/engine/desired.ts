import { roles } from "../../roles/index.ts";
import type { HostConfig } from "../inventory/load.ts";
import type { SecretResolver } from "../inventory/secrets.ts";
import { platforms } from "../platforms/index.ts";
import type { HostContext, Resource } from "../resources/types.ts";

export class DesiredStateError extends Error {
  override name = "DesiredStateError";
}

export function hostContext(host: HostConfig, root: string): HostContext {
  return { root, sandbox: root !== "", platform: platforms[host.platform] };
}

/** inventory host -> role(s) -> resources, checked for ids or paths claimed twice. */
export function desiredState(host: HostConfig, secrets: SecretResolver): Resource[] {
  const platform = platforms[host.platform];
  const out: Resource[] = [];
  for (const name of host.roles) out.push(...roles[name](host, { platform, secrets }));
  const ids = new Set<string>();
  const paths = new Map<string, string>();
  for (const r of out) {
    if (ids.has(r.id)) throw new DesiredStateError(`${host.name}: resource ${r.id} is defined twice`);
    ids.add(r.id);
    if ("path" in r) {
      const other = paths.get(r.path);
      if (other) throw new DesiredStateError(`${host.name}: ${r.path} is managed by both ${other} and ${r.id}`);
      paths.set(r.path, r.id);
    }
  }
  return out;
}
