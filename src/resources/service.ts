import { join, sh } from "../shell/builder.ts";
import { sandboxSkip } from "./package.ts";
import type { ResourceHandler, ServiceResource } from "./types.ts";

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
  apply(r, change, ctx) {
    const p = ctx.platform;
    const check = r.check && sh`{ ${r.check}; } || mf_fail ${`${r.name}: configuration check failed, not restarted`}`;
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
