// A program on the host recent enough for what a role writes (a setting its
// older releases lack). The host itself compares: its version against the
// first good release of each branch, with POSIX awk, so the plan and the
// apply ask the same question the same way. At plan, an installed release
// that is too old refuses the host (nothing written); a program not yet
// installed is checked again in the apply, right after its package.
import { code, join, sh, type Sh } from "../shell/builder.ts";
import { sandboxSkip } from "./package.ts";
import type { Change, MinVersionResource, ResourceHandler } from "./types.ts";

/**
 * Prints "good V", "old V" or "missing". A version is good when it is at
 * least the minimum listed for its branch (major.minor), or when its branch
 * is newer than every branch listed; "3.9" in the list means 3.9.0.
 */
function versionCheck(r: MinVersionResource): Sh {
  const awk = code(`awk -v v="$mf_v" -v m="$mf_min" '
function cmp(a, b,   x, y, i) { split(a, x, "."); split(b, y, ".")
  for (i = 1; i <= 3; i++) { if ((x[i] + 0) < (y[i] + 0)) return -1; if ((x[i] + 0) > (y[i] + 0)) return 1 }
  return 0 }
BEGIN { n = split(m, mins, " "); split(v, p, ".")
  for (i = 1; i <= n; i++) { split(mins[i], q, "."); if (q[1] "." q[2] == p[1] "." p[2]) exit (cmp(v, mins[i]) >= 0 ? 0 : 1) }
  exit (cmp(v, mins[n]) > 0 ? 0 : 1) }'`);
  return sh`mf_v=$( { ${r.version}; } 2>/dev/null | sed -n 1p); mf_min=${r.minimum.join(" ")}
if [ -z "$mf_v" ]; then echo missing; elif ${awk}; then echo "good $mf_v"; else echo "old $mf_v"; fi`;
}

const needsText = (r: MinVersionResource) => `${r.needs} needs ${r.program} ${r.minimum.join(", ")} or later`;

export const minVersionHandler: ResourceHandler<MinVersionResource> = {
  probe: (r, ctx) => (ctx.sandbox ? sh`echo sandbox` : versionCheck(r)),

  diff(r, lines, ctx): Change | null {
    const base = { id: r.id, kind: "minVersion" as const, target: r.program };
    if (ctx.sandbox) return sandboxSkip(r.id, "minVersion", r.program, `check that ${needsText(r)}`, "host programs do not run on a sandbox tree");
    const [state, version] = (lines[0] ?? "missing").split(" ");
    if (state === "good") return null;
    if (state === "old") {
      const message = `${r.program} ${version} on the host is too old: ${needsText(r)}; upgrade ${r.program} first`;
      return { ...base, action: "update", summary: `refused: ${message}`, data: { conflict: message }, conflict: message };
    }
    return { ...base, action: "run", summary: `check that ${needsText(r)}, once installed` };
  },

  apply(r, change) {
    if (change.data?.conflict) return sh`mf_fail ${String(change.data.conflict)}`;
    return join([
      sh`mf_vc=$(${versionCheck(r)})`,
      sh`case $mf_vc in
  good*) ;;
  missing) mf_fail ${`${r.program} is not installed: ${needsText(r)}`} ;;
  *) mf_fail ${r.program} "\${mf_vc#old }" ${`is too old: ${needsText(r)}`} ;;
esac`,
    ]);
  },
};
