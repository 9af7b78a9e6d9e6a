// Rules across fields for the nullmailer role; each names the field it is about.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import type { NullmailerData } from "./platforms.ts";
import type { nullmailerSections } from "./schema.ts";

export function nullmailerRules(h: RoleHost<typeof nullmailerSections>, _ctx: RuleContext<NullmailerData>): RuleProblem[] {
  const out: RuleProblem[] = [];
  const cfg = h.nullmailer ?? {};
  if (!h.relay?.host) out.push({ message: "role nullmailer needs relay.host (set it in defaults, the group or the host)" });
  if (cfg.persistentSpoolDataset && !cfg.persistentSpool) {
    out.push({ field: ["nullmailer", "persistentSpoolDataset"], message: "nullmailer.persistentSpoolDataset needs nullmailer.persistentSpool (its mountpoint)" });
  }
  // the persistent spool against the spool, the configuration directory and the system: src/inventory/directories.ts
  return out;
}
