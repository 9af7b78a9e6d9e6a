import { hostPath, mode, sh } from "../shell/builder.ts";
import { parsePathFacts, typeConflict } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import type { Change, FifoResource, ResourceHandler } from "./types.ts";

export const fifoHandler: ResourceHandler<FifoResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => sh`mf_probe_path ${hostPath(r.path)} 0`,
  diff(r, lines, ctx): Change | null {
    const f = parsePathFacts(lines);
    if (f.type === "fifo") {
      const drift = metaDrift(r, f, ctx);
      return drift.length
        ? { id: r.id, kind: "fifo", action: "update", target: r.path, summary: `fifo ${r.path} (${drift.join(", ")})`, data: { recreate: false } }
        : null;
    }
    if (f.type !== "missing") return typeConflict(r, r.path, f, "a FIFO");
    return { id: r.id, kind: "fifo", action: "create", target: r.path, summary: `create FIFO ${r.path}`, data: { recreate: true } };
  },
  apply(r, change, ctx) {
    const { owner, group } = ownerWanted(r, ctx);
    const p = hostPath(r.path);
    const own = sh`mf_own ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot create FIFO ${r.path}`}`;
    return change.data?.recreate ? sh`mkfifo ${p} && ${own}` : own;
  },
};
