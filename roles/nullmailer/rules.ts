// Rules across fields for the nullmailer role; each names the field it is about.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import { pathsOverlap } from "../../src/inventory/fields.ts";
import type { RoleHost, RuleContext } from "../types.ts";
import type { NullmailerData } from "./platforms.ts";
import type { nullmailerSections } from "./schema.ts";

export function nullmailerRules(h: RoleHost<typeof nullmailerSections>, { data: nm }: RuleContext<NullmailerData>): RuleProblem[] {
  const out: RuleProblem[] = [];
  const cfg = h.nullmailer ?? {};
  if (!h.relay?.host) out.push({ message: "role nullmailer needs relay.host (set it in defaults, the group or the host)" });
  if (cfg.persistentSpoolDataset && !cfg.persistentSpool) {
    out.push({ field: ["nullmailer", "persistentSpoolDataset"], message: "nullmailer.persistentSpoolDataset needs nullmailer.persistentSpool (its mountpoint)" });
  }
  const keep = cfg.persistentSpool;
  if (keep) {
    // Moving the spool onto itself, into itself or over its parent would unlink every queued message.
    for (const [what, dir] of [["the spool", nm.spool], ["the configuration directory", nm.confDir]] as const) {
      if (!pathsOverlap(keep, dir)) continue;
      const how = keep === dir ? "is" : keep.startsWith(`${dir}/`) ? "lies inside" : "contains";
      out.push({
        field: ["nullmailer", "persistentSpool"],
        message: `${keep} ${how} ${what} ${dir} on ${h.platform}; the persistent spool must be a directory of its own, outside ${nm.spool} and ${nm.confDir} (e.g. /home/nullmailer-spool)`,
      });
    }
  }
  return out;
}
