import { createHash } from "node:crypto";
import { createTwoFilesPatch } from "diff";
import type { BinarySecretRef, PemSecretRef } from "../inventory/fields.ts";
import { MASK, type SecretResolver } from "../inventory/secrets.ts";
import { content, hostPath, join, mode, sh } from "../shell/builder.ts";
import { modeString, parsePathFacts, typeConflict } from "./facts.ts";
import type { Change, FileResource, HostContext, ResourceHandler } from "./types.ts";

/** A plan shows this much of a managed file; a larger one (the passwd-file of a hub with 10,000 mailboxes) is compared by its SHA-256 as well. */
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

/** The bytes a file resource writes. */
export function fileBytes(r: FileResource): Buffer {
  return Buffer.from(r.content, r.encoding === "base64" ? "base64" : "utf8");
}

/** The most a file holding a secret may allow: read and write for its owner, read for its group. */
export const SECRET_FILE_MODES = 0o640;

/** Refuses a mode that lets others than the owner (and a group, to read) at a secret. */
export function checkSecretMode(id: string, m: number): void {
  if ((m & ~SECRET_FILE_MODES) !== 0) throw new Error(`${id}: a file holding a secret is 0600, or 0640 to a group, at most; ${modeString(m)} lets others read or change it`);
}

export type SecretFileSpec = {
  id: string;
  path: string;
  /** Default 0600; 0640 with `group` for a daemon that reads it as that group. */
  mode?: number;
  owner?: string;
  group?: string;
} & ({ pem: PemSecretRef } | { binary: BinarySecretRef });

/**
 * A file whose whole content is a PEM or binary secret (a TLS key, a
 * certificate chain, a DER key): written byte for byte, 0600 unless the
 * role asks 0640 (no more), sensitive without a mask, so a plan shows no
 * line of it, only that it is created or that its "sensitive content changed".
 * With the masking resolver (validate, render, the Terraform hash) its
 * content is the placeholder.
 */
export function secretFile(spec: SecretFileSpec, secrets: SecretResolver): FileResource {
  const m = spec.mode ?? 0o600;
  checkSecretMode(spec.id, m);
  const shape = "pem" in spec ? "pem" : "binary";
  const read = secrets.bytes;
  if (!read) throw new Error(`${spec.id}: this secret resolver reads passwords only, not ${shape} secrets`);
  const bytes = "pem" in spec ? read(spec.pem, "pem") : read(spec.binary, "binary");
  const base = { kind: "file" as const, id: spec.id, path: spec.path, mode: m, sensitive: true, ...(spec.owner ? { owner: spec.owner } : {}), ...(spec.group ? { group: spec.group } : {}) };
  if (secrets.masked || shape === "pem") return { ...base, content: secrets.masked ? MASK : bytes.toString("utf8") };
  return { ...base, content: bytes.toString("base64"), encoding: "base64" };
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
    const desired = fileBytes(r);
    const mask = maskFor(r, ctx);
    // a secret file without a mask (secretFile) shows no line of either side
    const hidden = r.sensitive === true && !r.mask;
    const meta = `(${modeString(r.mode)}${ctx.sandbox || !r.owner ? "" : ` ${r.owner}:${r.group ?? r.owner}`})`;
    if (f.type === "missing") {
      return {
        id: r.id,
        kind: "file",
        action: "create",
        target: r.path,
        summary: `create ${r.path} ${meta}`,
        diff: hidden ? `${r.path}: sensitive content (not shown)` : unifiedDiff(r.path, "", mask(r.content)),
        data: { content: true },
      };
    }
    const current = f.content ?? Buffer.alloc(0);
    const partial = f.size > current.length;
    const contentChanged =
      f.size !== desired.length || (partial ? f.sha256 !== createHash("sha256").update(desired).digest("hex") : !current.equals(desired));
    const drift = metaDrift(r, f, ctx);
    if (!contentChanged && drift.length === 0) {
      return f.leftover ? { id: r.id, kind: "file", action: "update", target: r.path, summary: `remove ${temp}`, data: { content: false, own: false, clean } } : null;
    }
    let diff: string | undefined;
    if (contentChanged) {
      if (hidden) diff = `${r.path}: sensitive content changed (not shown)`;
      else if (partial) diff = `${r.path}: content changed (${f.size} bytes, more than the ${FILE_PROBE_LIMIT} a plan reads: not shown)`;
      else if (!isText(current)) diff = `binary content of ${r.path} (${f.size} bytes) is replaced`;
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
    return sh`mf_write ${r.path} ${mode(r.mode)} ${owner} ${group} ${content(r.encoding ? fileBytes(r) : r.content)} || mf_fail ${`cannot write ${r.path}`}`;
  },
};
