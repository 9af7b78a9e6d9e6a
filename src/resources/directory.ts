import { hostPath, mode, sh } from "../shell/builder.ts";
import { parsePathFacts } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import type { Change, DirectoryResource, ResourceHandler } from "./types.ts";

export const directoryHandler: ResourceHandler<DirectoryResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => sh`mf_stat ${hostPath(r.path)}`,
  diff(r, lines, ctx): Change | null {
    const f = parsePathFacts(lines);
    if (f.type === "missing") {
      return { id: r.id, kind: "directory", action: "create", target: r.path, summary: `create directory ${r.path}`, data: { create: true } };
    }
    if (f.type !== "dir") {
      return {
        id: r.id,
        kind: "directory",
        action: "update",
        target: r.path,
        summary: `${r.path} is a ${f.type}, not a directory: mailfleet will not remove it; move it away first`,
        data: { conflict: f.type },
      };
    }
    const drift = metaDrift(r, f, ctx);
    if (drift.length === 0) return null;
    return { id: r.id, kind: "directory", action: "update", target: r.path, summary: `directory ${r.path} (${drift.join(", ")})` };
  },
  apply(r, change, ctx) {
    if (change.data?.conflict) return sh`mf_fail ${`${r.path} is a ${change.data.conflict}, not a directory`}`;
    const { owner, group } = ownerWanted(r, ctx);
    const p = hostPath(r.path);
    return sh`{ [ -d ${p} ] || mkdir -p ${p}; } && mf_own ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot create directory ${r.path}`}`;
  },
};
