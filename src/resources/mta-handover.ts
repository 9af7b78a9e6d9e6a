// Replacing an MTA must not lose what it still holds. The old MTA is asked
// to deliver and given time; then it is stopped and every message it still
// holds is parked in a directory (nullmailer's queue-file format: sender line,
// recipient lines, blank line, message), removed from the old queue only
// once its parked copy is complete and synced. The parkedMail resource hands
// them to the new MTA's sendmail once that runs. On Debian the two MTA
// packages conflict, so the old one is gone before the new one can accept
// mail: parking bridges that gap, and it survives an interrupted apply.
import { shq } from "../engine/shell.ts";
import { packageVersion, sandboxSkip } from "./package.ts";
import type { Platform } from "../platforms/types.ts";
import type { Change, HostContext, MtaHandoverResource, ParkedMailResource, ResourceHandler } from "./types.ts";

/** mf_wait_queue SECONDS COUNT-COMMAND...: waits while the count still falls; returns at once when it is 0. */
const WAIT_FN = `mf_wait_queue() {
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

const POSTFIX_FN = `mf_pf_ids() { # CONF POSTCONF: queue ids in incoming, active, deferred and hold
  mf_qd=$("$2" -c "$1" -h queue_directory) || return 1
  for mf_sub in incoming active deferred hold; do
    [ -d "$mf_qd/$mf_sub" ] && find "$mf_qd/$mf_sub" -type f
  done | sed 's|.*/||'
}
mf_pf_count() { mf_pf_ids "$1" "$2" | grep -c .; }
mf_pf_park() { # CONF POSTCONF POSTCAT POSTSUPER PARK
  mf_ids=$(mf_pf_ids "$1" "$2") || return 1
  mf_parked=; mf_um=$(umask); umask 077
  for mf_id in $mf_ids; do
    mf_env=$("$3" -c "$1" -e -q "$mf_id" 2>/dev/null) || continue
    mf_rcpts=$(printf '%s\\n' "$mf_env" | sed -n 's/^recipient: *//p')
    [ -n "$mf_rcpts" ] || continue
    mf_t="$5/.part.postfix.$mf_id"
    (
      printf '%s\\n' "$mf_env" | sed -n 's/^sender: *//p' | head -n 1 | grep . || echo
      printf '%s\\n\\n' "$mf_rcpts"
      "$3" -c "$1" -bh -q "$mf_id"
    ) > "$mf_t" && mv -f "$mf_t" "$5/postfix.$mf_id" || { rm -f "$mf_t"; umask "$mf_um"; return 1; }
    mf_parked="$mf_parked $mf_id"
  done
  umask "$mf_um"
  sync 2>/dev/null
  for mf_id in $mf_parked; do "$4" -c "$1" -d "$mf_id" >/dev/null 2>&1 || return 1; done
  [ "$(mf_pf_count "$1" "$2")" -eq 0 ]
}`;

const NULLMAILER_FN = `mf_nm_count() { mf_count "$1/queue"; echo "$mf_n"; }
mf_nm_park() { # SPOOL PARK: rename() each queued file into the parking directory
  set +f
  for mf_f in "$1"/queue/*; do
    [ -f "$mf_f" ] || continue
    mf_to="$2/nullmailer.\${mf_f##*/}"
    [ -e "$mf_to" ] && mf_to="$mf_to.$$"
    mv "$mf_f" "$mf_to" || { set -f; return 1; }
  done
  set -f
  sync 2>/dev/null
  [ "$(mf_nm_count "$1")" -eq 0 ]
}`;

function queueProbe(r: MtaHandoverResource): string {
  const q = r.queue;
  if (q.type === "nullmailer") return `if [ -d "$R"${shq(q.spool)}/queue ]; then mf_count "$R"${shq(q.spool)}/queue; echo "queue $mf_n"; else echo queue none; fi`;
  return [
    POSTFIX_FN,
    `if [ -x ${shq(q.postconf)} ] && mf_q=$(mf_pf_ids ${shq(q.configDir)} ${shq(q.postconf)}); then echo "queue $(printf '%s' "$mf_q" | grep -c .)"; else echo queue none; fi`,
  ].join("\n");
}

function oldName(r: MtaHandoverResource): string {
  return r.queue.type === "postfix" ? "Postfix" : "nullmailer";
}

export const mtaHandoverHandler: ResourceHandler<MtaHandoverResource> = {
  probe: (r, ctx) => (ctx.sandbox ? "echo sandbox" : `${ctx.platform.packageProbe(r.package)}\n${queueProbe(r)}`),

  diff(r, lines, ctx): Change | null {
    const name = oldName(r);
    if (ctx.sandbox) return sandboxSkip(r.id, "mtaHandover", r.package, `hand ${name}'s queue over to the new MTA if ${r.package} is installed`);
    const version = packageVersion(lines);
    const m = /^queue (\d+)/.exec(lines[1] ?? "");
    const queued = m ? Number(m[1]) : 0;
    if (version === null && queued === 0) return null;
    const then = r.removePackage && version !== null ? `, then remove ${r.package} ${version}` : version !== null ? ` (installing the new MTA replaces ${r.package} ${version})` : "";
    const what = queued > 0 ? `flush ${name}'s queue and park the ${queued} message${queued === 1 ? "" : "s"} it keeps in ${r.parking} for the new MTA` : `stop ${name} (its queue is empty)`;
    return {
      id: r.id,
      kind: "mtaHandover",
      action: r.removePackage && version !== null ? "remove" : "move",
      target: r.package,
      summary: `${what}${then}`,
      data: { installed: version !== null },
    };
  },

  apply(r, change, ctx: HostContext) {
    const p = ctx.platform;
    const park = `"$R"${shq(r.parking)}`;
    const kept = shq(`${oldName(r)} still holds mail; it was kept (run apply again)`);
    const steps = [WAIT_FN, `mkdir -p ${park} && chmod 0700 ${park} || mf_fail ${shq(`cannot create ${r.parking}`)}`];
    const installed = change.data?.installed === true;
    if (r.queue.type === "postfix") {
      const q = r.queue;
      const c = shq(q.configDir);
      steps.push(
        POSTFIX_FN,
        `if [ -x ${shq(q.postqueue)} ]; then`,
        `  ${shq(q.postqueue)} -c ${c} -f >/dev/null 2>&1`,
        `  mf_wait_queue ${r.wait} mf_pf_count ${c} ${shq(q.postconf)}`,
        `  { ${p.serviceStop(r.service)}; } >/dev/null 2>&1`,
        `  mf_pf_park ${c} ${shq(q.postconf)} ${shq(q.postcat)} ${shq(q.postsuper)} ${park} || mf_fail ${kept}`,
        `fi`,
      );
    } else {
      const spool = `"$R"${shq(r.queue.spool)}`;
      steps.push(
        NULLMAILER_FN,
        installed ? `if [ "$(${p.serviceProbe(r.service)})" != running ]; then { ${p.serviceStart(r.service)}; } >/dev/null 2>&1; fi` : "",
        // pull the trigger without blocking when no nullmailer-send reads it
        installed ? `( printf 1 > ${spool}/trigger ) 2>/dev/null & mf_tp=$!; sleep 1; kill "$mf_tp" 2>/dev/null` : "",
        `mf_wait_queue ${r.wait} mf_nm_count ${spool}`,
        installed ? `{ ${p.serviceStop(r.service)}; } >/dev/null 2>&1` : "",
        `mf_nm_park ${spool} ${park} || mf_fail ${kept}`,
      );
    }
    if (r.removePackage && installed) {
      steps.push(`{ ${p.serviceStop(r.service)}; } >/dev/null 2>&1`, `${p.packageRemove(r.package)} || mf_fail ${shq(`cannot remove ${r.package}`)}`);
    }
    return steps.filter(Boolean).join("\n");
  },
};

/** Where parked messages wait between the old MTA and the new one. */
export const PARKING = "/var/spool/mailfleet-handover";

/**
 * The pair a role needs to replace an MTA: `park` goes before the new MTA's
 * package, `deliver` after its service.
 */
export function mtaSwitch(
  platform: Platform,
  from: "postfix" | "nullmailer",
  newSendmail: string[],
  idPrefix: string,
): { park: MtaHandoverResource; deliver: ParkedMailResource } {
  const pf = platform.postfix;
  const nm = platform.nullmailer;
  const queue: MtaHandoverResource["queue"] =
    from === "postfix"
      ? { type: "postfix", configDir: pf.configDir, postconf: pf.postconf, postqueue: pf.postqueue, postcat: pf.postcat, postsuper: pf.postsuper }
      : { type: "nullmailer", spool: nm.spool };
  return {
    park: {
      kind: "mtaHandover",
      id: `${idPrefix}:replace-${from}`,
      queue,
      package: from === "postfix" ? pf.package : nm.package,
      service: from === "postfix" ? pf.service : nm.service,
      removePackage: !platform.mtaPackagesConflict,
      parking: PARKING,
      wait: 30,
    },
    deliver: { kind: "parkedMail", id: `${idPrefix}:deliver-parked`, parking: PARKING, inputs: [`${idPrefix}:replace-${from}`], sendmail: newSendmail },
  };
}
