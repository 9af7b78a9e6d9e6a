// A system user and its group, looked up with getent (Linux, illumos and the
// BSDs all have it) and created by the platform's useradd/groupadd.
import { join, sh } from "../shell/builder.ts";
import { sandboxSkip } from "./package.ts";
import type { AccountResource, Change, ResourceHandler } from "./types.ts";

/** The numeric field `index` of a getent line, or undefined when the entry is missing. */
function idOf(lines: string[], kind: "user" | "group", index: number): number | undefined {
  const line = lines.find((l) => l.startsWith(`${kind} `))?.slice(kind.length + 1);
  if (!line || line === "missing") return undefined;
  return Number(line.split(":")[index]);
}

export const accountHandler: ResourceHandler<AccountResource> = {
  probe: (r, ctx) =>
    ctx.sandbox
      ? sh`echo sandbox`
      : sh`printf 'group %s\\n' "$(getent group ${r.group} || echo missing)"; printf 'user %s\\n' "$(getent passwd ${r.user} || echo missing)"`,

  diff(r, lines, ctx): Change | null {
    const what = `user ${r.user} (uid ${r.uid}) in group ${r.group} (gid ${r.gid})`;
    if (ctx.sandbox) return sandboxSkip(r.id, "account", r.user, `create ${what} when missing`, "no user database in a sandbox");
    const gid = idOf(lines, "group", 2);
    const uid = idOf(lines, "user", 2);
    const primary = idOf(lines, "user", 3);
    const conflicts: string[] = [];
    if (gid !== undefined && gid !== r.gid) conflicts.push(`group ${r.group} has gid ${gid}, not ${r.gid}`);
    if (uid !== undefined && uid !== r.uid) conflicts.push(`user ${r.user} has uid ${uid}, not ${r.uid}`);
    if (uid !== undefined && primary !== r.gid) conflicts.push(`user ${r.user}'s primary group is gid ${primary}, not ${r.gid}`);
    const base = { id: r.id, kind: "account" as const, target: r.user };
    if (conflicts.length) {
      const message = `${conflicts.join("; ")}: mailfleet does not change an existing account (its files would lose their owner); set mail.owner to its ids or fix the account`;
      // the host is refused at plan (Change.conflict): nothing is written on it
      return { ...base, action: "update", summary: `refused: ${message}`, data: { conflict: message }, conflict: message };
    }
    if (gid !== undefined && uid !== undefined) return null;
    return { ...base, action: "create", summary: `create ${what}`, data: { group: gid === undefined, user: uid === undefined } };
  },

  apply(r, change, ctx) {
    if (change.data?.conflict) return sh`mf_fail ${String(change.data.conflict)}`;
    const p = ctx.platform;
    return join([
      change.data?.group ? sh`${p.groupAdd(r.group, r.gid)} || mf_fail ${`cannot create group ${r.group}`}` : undefined,
      change.data?.user ? sh`${p.userAdd(r.user, r.uid, r.group, r.home)} || mf_fail ${`cannot create user ${r.user}`}` : undefined,
    ]);
  },
};
