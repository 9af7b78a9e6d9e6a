import { debian } from "./debian.ts";
import { smartos } from "./smartos.ts";
import type { Platform } from "./types.ts";

export const platforms: Record<Platform["name"], Platform> = { smartos, debian };
export type { Platform };
