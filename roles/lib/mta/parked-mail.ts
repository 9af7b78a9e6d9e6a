// Delivers messages parked by an MTA handover through the new MTA's sendmail.
// A parked file is deleted only after sendmail exited 0 (the new MTA has it);
// one that fails stays for the next apply.
import { hostPath, sh } from "../../../src/shell/builder.ts";
import { sandboxSkip } from "../../../src/resources/package.ts";
import type { Change, ResourceHandler } from "../../../src/resources/types.ts";
import type { ParkedMailResource } from "./types.ts";

export const parkedMailHandler: ResourceHandler<ParkedMailResource> = {
  references: (r) => r.inputs,
  probe: (r, ctx) => {
    if (ctx.sandbox) return sh`echo sandbox`;
    const p = hostPath(r.parking);
    // whether mail is parked is a fact the plan rests on; how much is not (~, left out of its hash)
    return sh`mf_pn=0; if [ -d ${p} ]; then mf_pn=$(($(ls ${p} | wc -l))); fi; if [ "$mf_pn" -gt 0 ]; then echo parked some; else echo parked none; fi; echo "~parked $mf_pn"`;
  },

  diff(r, lines, ctx, changed): Change | null {
    if (ctx.sandbox) return sandboxSkip(r.id, "parkedMail", r.parking, `deliver messages parked in ${r.parking}`, "no MTA runs in a sandbox");
    const counted = Number(/^~parked\s+(\d+)/.exec(lines.find((l) => l.startsWith("~parked")) ?? "")?.[1] ?? 0);
    const n = lines.includes("parked some") ? Math.max(1, counted) : 0;
    const parking = r.inputs.filter((i) => changed.has(i));
    if (n === 0 && parking.length === 0) return null;
    const what = n > 0 ? `the ${n} message${n === 1 ? "" : "s"} parked in ${r.parking}` : `what ${parking.join(", ")} parks in ${r.parking}`;
    return { id: r.id, kind: "parkedMail", action: "move", target: r.parking, summary: `deliver ${what} through ${r.sendmail[0]}` };
  },

  // Each file: sender line (empty for <>), recipient lines, a blank line, the message.
  apply(r) {
    return sh`mf_bad=
set +f
for mf_f in ${hostPath(r.parking)}/*; do
  [ -f "$mf_f" ] || continue
  set --
  { IFS= read -r mf_from; while IFS= read -r mf_r && [ -n "$mf_r" ]; do set -- "$@" "$mf_r"; done; } < "$mf_f"
  if [ $# -eq 0 ]; then echo "mailfleet: $mf_f names no recipient; left in place" >&2; mf_bad=1; continue; fi
  if tail -n +$(($# + 3)) "$mf_f" | ${r.sendmail} -i -f "\${mf_from:-<>}" -- "$@"; then rm -f "$mf_f"; else mf_bad=1; fi
done
set -f
[ -z "$mf_bad" ] || mf_fail ${`some messages parked in ${r.parking} were not accepted by ${r.sendmail[0]}; they are kept (run apply again)`}`;
  },
};
