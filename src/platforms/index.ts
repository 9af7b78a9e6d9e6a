// The platform registry: one line per platform. Each platform file declares its own name.
import { debian } from "./debian.ts";
import { freebsd } from "./freebsd.ts";
import { smartos } from "./smartos.ts";
import type { Platform } from "./types.ts";

const list = [smartos, debian, freebsd] as const;

export type PlatformName = (typeof list)[number]["name"];
export const platformNames: readonly PlatformName[] = list.map((p) => p.name);
export const platforms = Object.fromEntries(list.map((p): [string, Platform] => [p.name, p])) as Readonly<Record<PlatformName, Platform>>;

export function isPlatformName(name: string): name is PlatformName {
  return (platformNames as readonly string[]).includes(name);
}

export type { Platform };
