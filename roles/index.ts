import type { RoleName } from "../src/inventory/schema.ts";
import { nullmailerRole } from "./nullmailer/index.ts";
import { postfixSatelliteRole } from "./postfix-satellite/index.ts";
import type { Role } from "./types.ts";

export const roles: Record<RoleName, Role> = {
  nullmailer: nullmailerRole,
  "postfix-satellite": postfixSatelliteRole,
};
export type { Role, RoleContext } from "./types.ts";
