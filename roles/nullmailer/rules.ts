// Rules across fields for the nullmailer role; each names the field it is about.
import { pathsOverlap } from "../../src/inventory/fields.ts";
import type { HostConfig } from "../../src/inventory/load.ts";
import { platforms } from "../../src/platforms/index.ts";

export interface RuleProblem {
  /** The field the problem is about, under the host's settings (e.g. ["nullmailer", "persistentSpool"]); none: the host itself. */
  field?: string[];
  message: string;
}

export function nullmailerRules(h: HostConfig): RuleProblem[] {
  const out: RuleProblem[] = [];
  const cfg = h.nullmailer ?? {};
  if (!h.relay?.host) out.push({ message: "role nullmailer needs relay.host (set it in defaults, the group or the host)" });
  if (cfg.persistentSpoolDataset && !cfg.persistentSpool) {
    out.push({ field: ["nullmailer", "persistentSpoolDataset"], message: "nullmailer.persistentSpoolDataset needs nullmailer.persistentSpool (its mountpoint)" });
  }
  const keep = cfg.persistentSpool;
  if (keep) {
    const nm = platforms[h.platform].nullmailer;
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
