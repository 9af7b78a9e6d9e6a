// Settings both Postfix roles take.
import { z } from "zod";
import { emailAddress } from "../../../src/inventory/fields.ts";

/** An address written into main.cf itself: no { or }, which main.cf reads as grouping. */
export const mainCfAddress = emailAddress.refine((v) => !/[{}]/.test(v), "an address without { or } (main.cf reads them as grouping; use such an address in a map instead)");

/** A main.cf parameter name (postconf(5)): lowercase letters, digits and '_'. */
export const postfixParameter = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,99}$/, "a main.cf parameter name: lowercase letters, digits and '_' (see postconf(5))");

/** A main.cf value on one line; '$name' expansions are allowed, newlines are not. */
const mainCfValue = z.union([
  z.string().max(4096).refine((v) => !/[\n\r\0]/.test(v), "one line without newlines or NUL"),
  z.number(),
  z.boolean(),
]);

/** Further main.cf settings, name -> value. */
export const mainCfSettings = z.record(postfixParameter, mainCfValue);

export const compatibilityLevel = z.string().regex(/^\d+(\.\d+){0,2}$/, "a Postfix version such as 3.6");

/** compatibility_level unless set: what Debian 12 ships. */
export const DEFAULT_COMPATIBILITY_LEVEL = "3.6";

/** A main.cf value as written: booleans as yes/no. */
export function mainCfValueText(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
}
