import { hostPath, sh } from "../shell/builder.ts";
import { parsePathFacts, typeConflict } from "./facts.ts";
import type { ResourceHandler, SymlinkResource } from "./types.ts";

export const symlinkHandler: ResourceHandler<SymlinkResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => sh`mf_probe_path ${hostPath(r.path)} 0`,
  diff(r, lines) {
    const f = parsePathFacts(lines);
    if (f.type === "link" && f.linkTarget === r.target) return null;
    if (f.type !== "link" && f.type !== "missing") return typeConflict(r, r.path, f, `a symbolic link to ${r.target}`);
    const action = f.type === "missing" ? "create" : "update";
    const was = f.type === "link" ? ` (was -> ${f.linkTarget})` : "";
    return { id: r.id, kind: "symlink", action, target: r.path, summary: `link ${r.path} -> ${r.target}${was}` };
  },
  apply(r) {
    const p = hostPath(r.path);
    // the target is a host path as the host reads it: no root prefix
    return sh`{ [ -d "$(dirname ${p})" ] || mkdir -p "$(dirname ${p})"; } && rm -f ${p} && ln -s -- ${r.target} ${p} || mf_fail ${`cannot link ${r.path}`}`;
  },
};
