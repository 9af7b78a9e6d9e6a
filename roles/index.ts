import type { RoleName } from "../src/inventory/schema.ts";
import { nullmailerRole } from "./nullmailer/index.ts";
import type { Role } from "./types.ts";

export const roles: Record<RoleName, Role> = {
  nullmailer: nullmailerRole,
};
export type { Role, RoleContext } from "./types.ts";
