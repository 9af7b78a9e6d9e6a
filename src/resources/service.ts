import { join, sh, type Sh } from "../shell/builder.ts";
import { sandboxSkip } from "./package.ts";
import type { ApplyPlan, CommandResource, FileResource, ResourceHandler, ServiceResource } from "./types.ts";

/**
 * What puts back the inputs this apply changed, when the service's check
 * refuses them: files replaced or removed come back from their backups, files
 * created are moved away (both kept as *.mailfleet-refused.<stamp>), and the
 * commands among the inputs (postmap) run again on what is back. A refused
 * configuration never stays on disk for the next restart or reboot.
 */
function rollback(r: ServiceResource, plan: ApplyPlan): Sh | undefined {
  const restore: string[] = [];
  const unmake: string[] = [];
  const rerun: CommandResource[] = [];
  const file = (f: FileResource) => {
    const c = plan.changes.get(f.id);
    if (!c || c.data?.content === false) return; // untouched, or only its mode or owner changed
    (c.action === "create" ? unmake : restore).push(f.path);
  };
  for (const id of r.inputs) {
    const x = plan.changes.has(id) ? plan.resources.get(id) : undefined;
    if (x?.kind === "file") file(x);
    if (x?.kind === "command") {
      rerun.push(x);
      for (const i of x.inputs) {
        const src = plan.resources.get(i);
        if (src?.kind === "file") file(src);
      }
    }
  }
  if (!restore.length && !unmake.length) return undefined;
  return join([
    restore.length ? sh`mf_restore ${restore}` : undefined,
    unmake.length ? sh`mf_unmake ${unmake}` : undefined,
    ...rerun.map((c) => sh`{ ${c.command}; } >/dev/null 2>&1`),
  ]);
}

export const serviceHandler: ResourceHandler<ServiceResource> = {
  references: (r) => r.inputs,
  probe: (r, ctx) => (ctx.sandbox ? sh`echo sandbox` : ctx.platform.serviceProbe(r.name)),
  diff(r, lines, ctx, changed) {
    const because = r.inputs.filter((i) => changed.has(i));
    if (ctx.sandbox) {
      return sandboxSkip(r.id, "service", r.name, `service ${r.name}${because.length ? ` (${r.onChange} for ${because.join(", ")})` : ""}`);
    }
    const running = (lines[0] ?? "").trim() === "running";
    if (!running) return { id: r.id, kind: "service", action: "start", target: r.name, summary: `start service ${r.name}` };
    if (because.length === 0) return null;
    return {
      id: r.id,
      kind: "service",
      action: r.onChange,
      target: r.name,
      summary: `${r.onChange} service ${r.name} (changed: ${because.join(", ")})`,
    };
  },
  apply(r, change, ctx, plan) {
    const p = ctx.platform;
    const back = plan && rollback(r, plan);
    const refused = `${r.name}: configuration check failed, not ${change.action === "start" ? "started" : change.action === "reload" ? "reloaded" : "restarted"}`;
    const check =
      r.check &&
      (back
        ? sh`if ! { ${r.check}; }; then
${back}
mf_fail ${`${refused}; the files it reads are back as they were (what was refused is kept as <file>.mailfleet-refused.<stamp>)`}
fi`
        : sh`{ ${r.check}; } || mf_fail ${refused}`);
    const fail = sh`mf_fail ${`cannot ${change.action} service ${r.name}`}`;
    if (change.action === "start") return join([check, sh`{ ${p.serviceStart(r.name)}; } || ${fail}`]);
    const now = change.action === "reload" ? p.serviceReload(r.name) : p.serviceRestart(r.name);
    // A step before (a spool move) may have stopped it: then start instead.
    return join([
      check,
      sh`if [ "$(${p.serviceProbe(r.name)})" = running ]; then { ${now}; } || ${fail}; else { ${p.serviceStart(r.name)}; } || ${fail}; fi`,
    ]);
  },
};
