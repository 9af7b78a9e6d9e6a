import { octal, shq } from "../engine/shell.ts";
import { parsePathFacts } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import type { Change, DirectoryResource, ResourceHandler } from "./types.ts";

export const directoryHandler: ResourceHandler<DirectoryResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => `mf_stat "$R"${shq(r.path)}`,
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
    if (change.data?.conflict) return `mf_fail ${shq(`${r.path} is a ${change.data.conflict}, not a directory`)}`;
    const { owner, group } = ownerWanted(r, ctx);
    return `{ [ -d "$R"${shq(r.path)} ] || mkdir -p "$R"${shq(r.path)}; } && mf_own ${shq(r.path)} ${octal(r.mode)} ${shq(owner)} ${shq(group)} || mf_fail ${shq(`cannot create directory ${r.path}`)}`;
  },
};
