import { shq } from "../engine/shell.ts";
import { parsePathFacts } from "./facts.ts";
import type { ResourceHandler, SymlinkResource } from "./types.ts";

export const symlinkHandler: ResourceHandler<SymlinkResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => `mf_probe_path "$R"${shq(r.path)} 0`,
  diff(r, lines) {
    const f = parsePathFacts(lines);
    if (f.type === "link" && f.linkTarget === r.target) return null;
    if (f.type === "dir") {
      return {
        id: r.id,
        kind: "symlink",
        action: "update",
        target: r.path,
        summary: `${r.path} is a directory; mailfleet will not replace it with a link`,
        data: { conflict: "directory" },
      };
    }
    const action = f.type === "missing" ? "create" : "update";
    const was = f.type === "link" ? ` (was -> ${f.linkTarget})` : f.type === "missing" ? "" : ` (replaces a ${f.type})`;
    return { id: r.id, kind: "symlink", action, target: r.path, summary: `link ${r.path} -> ${r.target}${was}` };
  },
  apply(r, change) {
    if (change.data?.conflict) return `mf_fail ${shq(`${r.path} is a directory, not a link`)}`;
    const p = `"$R"${shq(r.path)}`;
    return `{ [ -d "$(dirname ${p})" ] || mkdir -p "$(dirname ${p})"; } && rm -f ${p} && ln -s ${shq(r.target)} ${p} || mf_fail ${shq(`cannot link ${r.path}`)}`;
  },
};
