// Replacing an MTA must not lose what it still holds. The old MTA is asked
// to deliver and given time; then it is stopped and every message it still
// holds is parked in a directory (nullmailer's queue-file format: sender line,
// recipient lines, blank line, message), removed from the old queue only
// once its parked copy is complete and synced. The parkedMail resource hands
// them to the new MTA's sendmail once that runs. On Debian the MTA packages
// conflict, so the old one is gone before the new one can accept mail:
// parking bridges that gap, and it survives an interrupted apply. What is
// specific to an MTA (how to count, flush and park its queue) comes from its
// role, as an MtaQueue.
import { hostPath, join, sh } from "../../../src/shell/builder.ts";
import { packageVersion, sandboxSkip } from "../../../src/resources/package.ts";
import type { Change, HostContext, ResourceHandler } from "../../../src/resources/types.ts";
import type { MtaHandoverResource, MtaQueue } from "./types.ts";

/** mf_wait_queue SECONDS COUNT-COMMAND...: waits while the count still falls; returns at once when it is 0. */
const WAIT_FN = sh`mf_wait_queue() {
  mf_max=$1; shift
  mf_i=0; mf_last=-1; mf_still=0
  while [ "$mf_i" -lt "$mf_max" ]; do
    mf_n=$("$@")
    [ "$mf_n" -eq 0 ] && return 0
    if [ "$mf_n" = "$mf_last" ]; then mf_still=$((mf_still + 1)); else mf_still=0; fi
    # nothing left the queue for 3 s: what remains is deferred
    [ "$mf_still" -ge 3 ] && return 0
    mf_last=$mf_n; sleep 1; mf_i=$((mf_i + 1))
  done
}`;

export const mtaHandoverHandler: ResourceHandler<MtaHandoverResource> = {
  probe: (r, ctx) => {
    if (ctx.sandbox) return sh`echo sandbox`;
    const q = r.queue;
    return join([
      ctx.platform.packageProbe(q.package),
      q.functions,
      // whether mail is queued is a fact the plan rests on; how many is not (~, left out of its hash)
      sh`if { ${q.present}; }; then mf_qn=$(${q.count}); if [ "\${mf_qn:-0}" -gt 0 ]; then echo queue held; else echo queue empty; fi; echo "~queued \${mf_qn:-0}"; else echo queue none; fi`,
    ]);
  },

  diff(r, lines, ctx): Change | null {
    const q = r.queue;
    if (ctx.sandbox) return sandboxSkip(r.id, "mtaHandover", q.package, `hand ${q.title}'s queue over to the new MTA if ${q.package} is installed`);
    const version = packageVersion(lines);
    const held = lines.includes("queue held");
    const counted = Number(/^~queued (\d+)/.exec(lines.find((l) => l.startsWith("~queued ")) ?? "")?.[1] ?? 0);
    const queued = held ? Math.max(1, counted) : 0;
    if (version === null && queued === 0) return null;
    const then = r.removePackage && version !== null ? `, then remove ${q.package} ${version}` : version !== null ? ` (installing the new MTA replaces ${q.package} ${version})` : "";
    const what = queued > 0 ? `flush ${q.title}'s queue and park the ${queued} message${queued === 1 ? "" : "s"} it keeps in ${r.parking} for the new MTA` : `stop ${q.title} (its queue is empty)`;
    return {
      id: r.id,
      kind: "mtaHandover",
      action: r.removePackage && version !== null ? "remove" : "move",
      target: q.package,
      summary: `${what}${then}`,
      data: { installed: version !== null },
    };
  },

  apply(r, change, ctx: HostContext) {
    const p = ctx.platform;
    const q = r.queue;
    const park = hostPath(r.parking);
    const installed = change.data?.installed === true;
    const quiet = (c: ReturnType<typeof sh>) => sh`{ ${c}; } >/dev/null 2>&1`;
    return join([
      WAIT_FN,
      q.functions,
      sh`mkdir -p ${park} && chmod 0700 ${park} || mf_fail ${`cannot create ${r.parking}`}`,
      sh`if { ${q.present}; }; then`,
      q.flushNeedsService && installed ? sh`  if [ "$(${p.serviceProbe(q.service)})" != running ]; then ${quiet(p.serviceStart(q.service))}; fi` : undefined,
      q.flushNeedsService && !installed ? undefined : sh`  ${q.flush}`,
      sh`  mf_wait_queue ${r.wait} ${q.count}`,
      sh`  ${quiet(p.serviceStop(q.service))}`,
      sh`  ${q.park} ${park} || mf_fail ${`${q.title} still holds mail; it was kept (run apply again)`}`,
      sh`fi`,
      r.removePackage && installed
        ? join([quiet(p.serviceStop(q.service)), sh`${p.packageRemove(q.package)} || mf_fail ${`cannot remove ${q.package}`}`])
        : undefined,
    ]);
  },
};
