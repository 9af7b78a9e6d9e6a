// A role's data for a host's platform, and the platform's adapter.
import type { Role } from "../../roles/types.ts";
import type { HostConfig } from "../inventory/catalog.ts";
import { isPlatformName, platforms, type Platform } from "../platforms/index.ts";

export function platformOf(host: Pick<HostConfig, "platform">): Platform {
  if (!isPlatformName(host.platform)) throw new Error(`no platform named ${host.platform}`);
  return platforms[host.platform];
}

export function roleDataFor(role: Role, platform: string): unknown {
  const data = isPlatformName(platform) ? role.platforms[platform] : undefined;
  if (data === undefined) throw new Error(`role ${role.name} does not support platform ${platform}`);
  return data;
}
