import { hostPath, mode, sh } from "../shell/builder.ts";
import { parsePathFacts } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import type { Change, FifoResource, ResourceHandler } from "./types.ts";

export const fifoHandler: ResourceHandler<FifoResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => sh`mf_stat ${hostPath(r.path)}`,
  diff(r, lines, ctx): Change | null {
    const f = parsePathFacts(lines);
    if (f.type === "fifo") {
      const drift = metaDrift(r, f, ctx);
      return drift.length
        ? { id: r.id, kind: "fifo", action: "update", target: r.path, summary: `fifo ${r.path} (${drift.join(", ")})`, data: { recreate: false } }
        : null;
    }
    if (f.type === "dir") {
      return { id: r.id, kind: "fifo", action: "update", target: r.path, summary: `${r.path} is a directory, not a FIFO`, data: { conflict: true } };
    }
    const summary = f.type === "missing" ? `create FIFO ${r.path}` : `replace the ${f.type} at ${r.path} with a FIFO`;
    return { id: r.id, kind: "fifo", action: f.type === "missing" ? "create" : "update", target: r.path, summary, data: { recreate: true } };
  },
  apply(r, change, ctx) {
    if (change.data?.conflict) return sh`mf_fail ${`${r.path} is a directory, not a FIFO`}`;
    const { owner, group } = ownerWanted(r, ctx);
    const p = hostPath(r.path);
    const own = sh`mf_own ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot create FIFO ${r.path}`}`;
    return change.data?.recreate ? sh`rm -f ${p} && mkfifo ${p} && ${own}` : own;
  },
};
