// A persistent spool the inventory no longer names: a zone reprovisioned
// from an inventory that forgot `persistentSpool` gets a fresh spool, and the
// mail queued in the persistent directory would wait there forever, with an
// apply "verified" and every plan "no changes". The probe looks for queued
// files in the persistent spools mailfleet knows of (every persistentSpool
// of the inventory, and the documented /home/nullmailer-spool); any found
// refuses the host, with the count and what to do, before anything is written.
import { code, join, sh } from "../../src/shell/builder.ts";
import type { ResourceHandler } from "../../src/resources/types.ts";

export interface OrphanedSpoolResource {
  kind: "orphanedSpool";
  id: string;
  /** nullmailer's spool on this host. */
  spool: string;
  /** Directories that may hold an earlier persistent spool (queue/ and failed/ inside). */
  candidates: string[];
}

declare module "../../src/resources/types.ts" {
  interface ResourceKinds {
    orphanedSpool: OrphanedSpoolResource;
  }
}

/** Where the examples and the docs put a persistent spool. */
export const KNOWN_PERSISTENT_SPOOLS = ["/home/nullmailer-spool"];

const PROBE_FN = code(`mf_orphan_probe() { # SPOOL DIR: queued files in DIR/queue and DIR/failed that the spool does not link to
  for mf_sub in queue failed; do
    mf_d="$R$2/$mf_sub"
    [ -d "$mf_d" ] && [ ! -L "$mf_d" ] || continue
    [ -L "$R$1/$mf_sub" ] && [ "$(mf_link_target "$R$1/$mf_sub")" = "$2/$mf_sub" ] && continue
    mf_count "$mf_d"
    [ "$mf_n" -gt 0 ] && printf '~orphan %s %s\\n' "$mf_n" "$2/$mf_sub"
  done
  return 0
}`);

export const orphanedSpoolHandler: ResourceHandler<OrphanedSpoolResource> = {
  probe: (r) => join([PROBE_FN, ...r.candidates.map((c) => sh`mf_orphan_probe ${r.spool} ${c}`)]),
  diff(r, lines) {
    const found = lines.flatMap((l) => {
      const m = /^~orphan (\d+) (.+)$/.exec(l.trim());
      return m ? [{ n: Number(m[1]), dir: m[2]! }] : [];
    });
    if (found.length === 0) return null;
    const what = found.map((f) => `${f.dir} holds ${f.n} queued file${f.n === 1 ? "" : "s"}`).join(", ");
    const dir = found[0]!.dir.replace(/\/(queue|failed)$/, "");
    const conflict = `${what} that nullmailer here would never send (nullmailer.persistentSpool is not set on this host): set nullmailer.persistentSpool: ${dir} to deliver them, or move them into ${r.spool}/queue yourself`;
    return { id: r.id, kind: "orphanedSpool", action: "move", target: dir, summary: `refused: ${conflict}`, conflict };
  },
  apply: () => sh`:`,
};
