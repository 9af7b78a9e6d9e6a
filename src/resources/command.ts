// A command run as a handler. Its outputs are probed too, so a run that was
// interrupted (source written, command not run) is caught by the next plan.
import { hostPath, join, mode, sh } from "../shell/builder.ts";
import { parsePathFacts, typeConflict } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import { sandboxSkip } from "./package.ts";
import type { Change, CommandResource, ResourceHandler } from "./types.ts";

export const commandHandler: ResourceHandler<CommandResource> = {
  statPaths: (r) => r.creates.map((c) => c.path),
  references: (r) => r.inputs,
  probe(r, ctx) {
    if (ctx.sandbox) return sh`echo sandbox`;
    const lines = [];
    for (const out of r.creates) {
      const o = hostPath(out.path);
      lines.push(sh`printf 'out '; mf_stat ${o}`);
      for (const src of r.sources) {
        lines.push(sh`if [ -e ${o} ] && [ -n "$(find ${hostPath(src)} -prune -newer ${o} 2>/dev/null)" ]; then echo ${`stale ${out.path} ${src}`}; fi`);
      }
    }
    return lines.length ? join(lines) : sh`true`;
  },

  // A host program cannot run on a directory tree standing in for a host, so
  // under a root prefix the command is listed as skipped, like packages.
  diff(r, lines, ctx, changed): Change | null {
    const because = r.inputs.filter((i) => changed.has(i));
    if (ctx.sandbox) {
      const what = `run ${r.description}${because.length ? ` (changed: ${because.join(", ")})` : ""}`;
      return sandboxSkip(r.id, "command", r.description, what, "host programs do not run on a sandbox tree");
    }
    const reasons: string[] = [];
    if (because.length) reasons.push(`changed: ${because.join(", ")}`);
    const outs = lines.filter((l) => l.startsWith("out ")).map((l) => parsePathFacts([l.slice(4)]));
    const drift: string[] = [];
    for (const [i, c] of r.creates.entries()) {
      const f = outs[i];
      if (!f || f.type === "missing") reasons.push(`${c.path} is missing`);
      else if (f.type !== "file") return typeConflict(r, c.path, f, `a regular file written by ${r.description}`);
      else drift.push(...metaDrift(c, f, ctx).map((d) => `${c.path} ${d}`));
    }
    for (const l of lines.filter((x) => x.startsWith("stale "))) {
      const [, out, src] = l.split(" ");
      reasons.push(`${out} is older than ${src}`);
    }
    const base = { id: r.id, kind: "command" as const, target: r.description };
    if (reasons.length) return { ...base, action: "run", summary: `run ${r.description} (${[...reasons, ...drift].join("; ")})`, data: { run: true } };
    if (drift.length) return { ...base, action: "update", summary: `fix ${drift.join("; ")}`, data: { run: false } };
    return null;
  },

  apply(r, change, ctx) {
    const steps = [];
    if (change.data?.run) steps.push(sh`{ ${r.command}; } || mf_fail ${`${r.description} failed`}`);
    for (const c of r.creates) {
      const { owner, group } = ownerWanted(c, ctx);
      steps.push(sh`mf_own ${c.path} ${mode(c.mode)} ${owner} ${group} || mf_fail ${`cannot set mode/owner of ${c.path}`}`);
    }
    return join(steps);
  },
};
