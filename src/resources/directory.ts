import { hostPath, mode, sh } from "../shell/builder.ts";
import { parsePathFacts, typeConflict } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import type { Change, DirectoryResource, ResourceHandler } from "./types.ts";

export const directoryHandler: ResourceHandler<DirectoryResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => sh`mf_probe_path ${hostPath(r.path)} 0`,
  diff(r, lines, ctx): Change | null {
    const f = parsePathFacts(lines);
    if (f.type === "missing") {
      return { id: r.id, kind: "directory", action: "create", target: r.path, summary: `create directory ${r.path}`, data: { create: true } };
    }
    if (f.type !== "dir") return typeConflict(r, r.path, f, "a directory");
    const drift = metaDrift(r, f, ctx);
    if (drift.length === 0) return null;
    return { id: r.id, kind: "directory", action: "update", target: r.path, summary: `directory ${r.path} (${drift.join(", ")})` };
  },
  apply(r, change, ctx) {
    const { owner, group } = ownerWanted(r, ctx);
    const p = hostPath(r.path);
    return sh`{ [ -d ${p} ] || mkdir -p ${p}; } && mf_own ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot create directory ${r.path}`}`;
  },
};
