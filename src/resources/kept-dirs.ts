// Directories mailfleet never deletes (mailboxes): the probe lists what is
// below the base, and the plan names those the inventory no longer has as
// kept. Nothing is applied for them, ever.
import { code, hostPath, sh } from "../shell/builder.ts";
import type { Change, KeptDirsResource, ResourceHandler } from "./types.ts";

export const keptDirsHandler: ResourceHandler<KeptDirsResource> = {
  probe(r) {
    const base = hostPath(r.base);
    const glob = "/*".repeat(r.depth);
    // one line per directory, relative to the base; names with a newline cannot be listed and are left out
    return sh`if [ -d ${base} ]; then set +f; for mf_d in ${base}${code(glob)}; do [ -d "$mf_d" ] && [ ! -L "$mf_d" ] || continue; case $mf_d in *'
'*) continue ;; esac; printf 'dir %s\\n' "\${mf_d#${base}/}"; done; set -f; fi`;
  },
  diff(r, lines): Change | null {
    const expected = new Set(r.expected);
    const kept = lines.filter((l) => l.startsWith("dir ")).map((l) => l.slice(4)).filter((d) => !expected.has(d)).sort();
    if (kept.length === 0) return null;
    const shown = kept.length > 20 ? [...kept.slice(0, 20), `and ${kept.length - 20} more`] : kept;
    return {
      id: r.id,
      kind: "keptDirs",
      action: "keep",
      target: r.base,
      summary: `keep ${kept.length} ${kept.length === 1 ? r.noun[0] : r.noun[1]} under ${r.base} no longer in the inventory (mailfleet never deletes them): ${shown.join(", ")}`,
    };
  },
  apply: () => sh`:`,
};
