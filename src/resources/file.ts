import { createTwoFilesPatch } from "diff";
import { content, hostPath, join, mode, sh } from "../shell/builder.ts";
import { modeString, parsePathFacts, typeConflict } from "./facts.ts";
import type { Change, FileResource, HostContext, ResourceHandler } from "./types.ts";

/** Larger managed files are compared by size and a prefix only; config files are far smaller. */
export const FILE_PROBE_LIMIT = 1 << 20;

export function unifiedDiff(path: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(path, path, before, after, "", "", { context: 3 });
  return patch
    .split("\n")
    .filter((l) => !/^={5,}$/.test(l) && !l.startsWith("Index: "))
    .map((l) => (l.startsWith("--- ") || l.startsWith("+++ ") ? l.trimEnd() : l))
    .join("\n")
    .trimEnd();
}

function isText(buf: Buffer): boolean {
  return !buf.includes(0) && Buffer.from(buf.toString("utf8"), "utf8").equals(buf);
}

/** The file's mask by name; a name no role provides is a bug in the role. */
function maskFor(r: FileResource, ctx: HostContext): (text: string) => string {
  if (!r.mask) return (text) => text;
  const m = ctx.masks[r.mask];
  if (!m) throw new Error(`${r.id}: no mask named ${r.mask}`);
  return m;
}

export function ownerWanted(r: { owner?: string; group?: string }, ctx: HostContext): { owner: string; group: string } {
  return ctx.sandbox ? { owner: "", group: "" } : { owner: r.owner ?? "", group: r.group ?? "" };
}

/** Differences in mode and ownership, as words for the summary. */
export function metaDrift(
  r: { owner?: string; group?: string; mode: number },
  f: { mode: number; owner: string; group: string },
  ctx: HostContext,
): string[] {
  const out: string[] = [];
  if (f.mode !== r.mode) out.push(`mode ${modeString(f.mode)} -> ${modeString(r.mode)}`);
  const want = ownerWanted(r, ctx);
  if (want.owner && f.owner !== want.owner) out.push(`owner ${f.owner} -> ${want.owner}`);
  if (want.group && f.group !== want.group) out.push(`group ${f.group} -> ${want.group}`);
  return out;
}

export const fileHandler: ResourceHandler<FileResource> = {
  statPaths: (r) => [r.path],
  probe: (r) =>
    join([
      r.sensitive ? sh`mf_probe_secret ${hostPath(r.path)} ${FILE_PROBE_LIMIT}` : sh`mf_probe_path ${hostPath(r.path)} ${FILE_PROBE_LIMIT}`,
      sh`mf_leftover ${hostPath(r.path)}`,
    ]),

  diff(r, lines, ctx): Change | null {
    const f = parsePathFacts(lines);
    const clean = f.leftover === true;
    const temp = `the temporary file an interrupted apply left beside ${r.path}`;
    if (r.state === "absent") {
      if (f.type === "missing") {
        return f.leftover ? { id: r.id, kind: "file", action: "delete", target: r.path, summary: `remove ${temp}`, data: { clean, gone: true } } : null;
      }
      // a link is moved aside as it is (mv renames the link, never what it points to)
      if (f.type !== "file" && f.type !== "link") return typeConflict(r, r.path, f, "a regular file, to be removed");
      return { id: r.id, kind: "file", action: "delete", target: r.path, summary: `remove ${r.path} (kept as a backup)`, data: { clean } };
    }
    if (f.type !== "file" && f.type !== "missing") return typeConflict(r, r.path, f, "a regular file");
    const desired = Buffer.from(r.content, "utf8");
    const mask = maskFor(r, ctx);
    const meta = `(${modeString(r.mode)}${ctx.sandbox || !r.owner ? "" : ` ${r.owner}:${r.group ?? r.owner}`})`;
    if (f.type === "missing") {
      return {
        id: r.id,
        kind: "file",
        action: "create",
        target: r.path,
        summary: `create ${r.path} ${meta}`,
        diff: unifiedDiff(r.path, "", mask(r.content)),
        data: { content: true },
      };
    }
    const current = f.content ?? Buffer.alloc(0);
    const contentChanged = f.size !== desired.length || !current.equals(desired);
    const drift = metaDrift(r, f, ctx);
    if (!contentChanged && drift.length === 0) {
      return f.leftover ? { id: r.id, kind: "file", action: "update", target: r.path, summary: `remove ${temp}`, data: { content: false, own: false, clean } } : null;
    }
    let diff: string | undefined;
    if (contentChanged) {
      if (!isText(current)) diff = `binary content of ${r.path} (${f.size} bytes) is replaced`;
      else {
        diff = unifiedDiff(r.path, mask(current.toString("utf8")), mask(r.content));
        if (!diff.includes("\n@@")) diff = `${r.path}: sensitive content changed (not shown)`;
      }
    }
    return {
      id: r.id,
      kind: "file",
      action: "update",
      target: r.path,
      summary: `update ${r.path}${drift.length ? ` (${drift.join(", ")})` : ""}`,
      diff,
      data: { content: contentChanged, own: true, clean },
    };
  },

  apply(r, change, ctx) {
    const p = hostPath(r.path);
    // mf_write removes the temporary files of interrupted writes itself
    const clean = change.data?.clean ? sh`mf_clean_temps ${r.path}` : undefined;
    if (change.action === "delete") {
      return join([clean, change.data?.gone ? undefined : sh`mv -f ${p} ${p}.mailfleet-bak.$MF_STAMP || mf_fail ${`cannot remove ${r.path}`}`]);
    }
    const { owner, group } = ownerWanted(r, ctx);
    if (change.data?.content === false) {
      return join([clean, change.data.own !== false ? sh`mf_own ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot set mode/owner of ${r.path}`}` : undefined]);
    }
    return sh`mf_write ${r.path} ${mode(r.mode)} ${owner} ${group} ${content(r.content)} || mf_fail ${`cannot write ${r.path}`}`;
  },
};
