// Rules across fields for the rspamd role.
import type { RuleProblem } from "../../src/inventory/catalog.ts";
import type { RoleHost } from "../types.ts";
import type { rspamdSections } from "./schema.ts";

export function rspamdRules(h: RoleHost<typeof rspamdSections>): RuleProblem[] {
  const out: RuleProblem[] = [];
  const a = h.rspamd?.actions ?? {};
  const order: [keyof typeof a, string][] = [
    ["greylist", "greylist"],
    ["addHeader", "addHeader"],
    ["reject", "reject"],
  ];
  const set = order.filter(([k]) => a[k] !== undefined);
  for (let i = 1; i < set.length; i++) {
    const [lo, hi] = [set[i - 1]!, set[i]!];
    if (a[lo[0]]! >= a[hi[0]]!) {
      out.push({ field: ["rspamd", "actions", hi[0]], message: `rspamd.actions.${hi[1]} (${a[hi[0]]}) must be above ${lo[1]} (${a[lo[0]]}): a message is greylisted, then marked, then refused as its score grows` });
    }
  }
  const disabled = h.rspamd?.disable ?? [];
  const dup = disabled.find((m, i) => disabled.indexOf(m) !== i);
  if (dup) out.push({ field: ["rspamd", "disable"], message: `rspamd.disable lists ${dup} twice` });
  if (!h.rspamd?.redis && a.greylist !== undefined && !disabled.includes("greylist")) {
    out.push({ field: ["rspamd", "actions", "greylist"], message: "greylisting needs rspamd.redis (rspamd keeps its greylist there); add redis, or leave actions.greylist out" });
  }
  if (h.rspamd?.dkim && !h.rspamd.dkim.domains && Object.keys(h.mail?.domains ?? {}).length === 0) {
    out.push({ field: ["rspamd", "dkim"], message: "rspamd.dkim signs the domains of mail: (none on this host): give mail.domains, or rspamd.dkim.domains" });
  }
  if (h.rspamd?.dkim && h.rspamd.disable?.includes("dkim_signing")) {
    out.push({ field: ["rspamd", "dkim"], message: "rspamd.dkim needs the dkim_signing module, which rspamd.disable switches off" });
  }
  return out;
}
