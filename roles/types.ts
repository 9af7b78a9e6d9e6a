import type { HostConfig } from "../src/inventory/load.ts";
import type { SecretResolver } from "../src/inventory/secrets.ts";
import type { Platform } from "../src/platforms/types.ts";
import type { Resource } from "../src/resources/types.ts";

export interface RoleContext {
  platform: Platform;
  secrets: SecretResolver;
}

/** A role turns one host's merged settings into the resources it needs. Pure. */
export type Role = (host: HostConfig, ctx: RoleContext) => Resource[];
