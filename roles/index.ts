// The role registry: one line per role. Each role's folder holds everything about it.
import { nullmailer } from "./nullmailer/index.ts";
import { postfixSatellite } from "./postfix-satellite/index.ts";
import { rspamd } from "./rspamd/index.ts";
import type { Role } from "./types.ts";

export const roles: readonly Role[] = [nullmailer, postfixSatellite, rspamd];

export type { Role, RoleContext } from "./types.ts";
