// The role registry: one line per role. Each role's folder holds everything about it.
import { dovecot } from "./dovecot/index.ts";
import { nullmailer } from "./nullmailer/index.ts";
import { postfixHub } from "./postfix-hub/index.ts";
import { postfixSatellite } from "./postfix-satellite/index.ts";
import { rspamd } from "./rspamd/index.ts";
import type { Role } from "./types.ts";

export const roles: readonly Role[] = [nullmailer, postfixSatellite, postfixHub, dovecot, rspamd];

export type { Role, RoleContext } from "./types.ts";
