import { join, sh } from "../shell/builder.ts";
import type { Change, HostContext, PackageResource, ResourceHandler } from "./types.ts";

export function sandboxSkip(
  id: string,
  kind: Change["kind"],
  target: string,
  what: string,
  why = "no package or service manager in a sandbox",
): Change {
  return { id, kind, action: "skip", target, summary: `${what}: skipped under a root prefix (${why})` };
}

export function packageVersion(lines: string[]): string | null {
  const m = /^installed (\S+)/.exec(lines[0] ?? "");
  return m ? m[1]! : null;
}

export const packageHandler: ResourceHandler<PackageResource> = {
  probe: (r, ctx: HostContext) => (ctx.sandbox ? sh`echo sandbox` : ctx.platform.packageProbe(r.name)),
  diff(r, lines, ctx) {
    if (ctx.sandbox) return sandboxSkip(r.id, "package", r.name, `${r.state === "present" ? "install" : "remove"} package ${r.name}`);
    const version = packageVersion(lines);
    if (r.state === "present" && version === null) {
      return { id: r.id, kind: "package", action: "install", target: r.name, summary: `install package ${r.name}` };
    }
    if (r.state === "absent" && version !== null) {
      return { id: r.id, kind: "package", action: "remove", target: r.name, summary: `remove package ${r.name} ${version}` };
    }
    return null;
  },
  apply(r, change, ctx) {
    const cmd = change.action === "install" ? ctx.platform.packageInstall(r.name) : ctx.platform.packageRemove(r.name);
    const preseed =
      change.action === "install" && r.debconf && ctx.platform.packagePreseed
        ? sh`${ctx.platform.packagePreseed(r.debconf)} || mf_fail ${`cannot preseed debconf for ${r.name}`}`
        : undefined;
    return join([preseed, sh`${cmd} || mf_fail ${`cannot ${change.action} package ${r.name}`}`]);
  },
};
