// Replacing an MTA must not lose what it still holds: its queue is flushed,
// whatever stays is handed to the new MTA message by message (deleted from the
// old queue only after the new one accepted it), and only then is the old
// package removed.
import { shq } from "../engine/shell.ts";
import { packageVersion, sandboxSkip } from "./package.ts";
import type { MtaHandoverResource, ResourceHandler } from "./types.ts";

const HANDOVER_FN = `mf_postfix_handover() { # POSTQUEUE POSTCAT POSTSUPER SENDMAIL WAIT
  mf_pq=$1; mf_pc=$2; mf_ps=$3; mf_sm=$4; mf_wait=$5
  "$mf_pq" -f 2>/dev/null
  mf_i=0
  while [ "$mf_i" -lt "$mf_wait" ]; do
    "$mf_pq" -p 2>/dev/null | grep -q 'queue is empty' && return 0
    sleep 1; mf_i=$((mf_i + 1))
  done
  for mf_id in $("$mf_pq" -p 2>/dev/null | awk '/^[0-9A-Za-z]+[*!]? +[0-9]+ / { sub(/[*!]$/, "", $1); print $1 }'); do
    mf_env=$("$mf_pc" -e -q "$mf_id" 2>/dev/null) || continue
    mf_from=$(printf '%s\\n' "$mf_env" | sed -n 's/^sender: //p' | head -n 1)
    mf_rcpts=$(printf '%s\\n' "$mf_env" | sed -n 's/^recipient: //p')
    [ -n "$mf_rcpts" ] || continue
    set --
    while IFS= read -r mf_r; do [ -n "$mf_r" ] && set -- "$@" "$mf_r"; done <<MF_RCPTS
$mf_rcpts
MF_RCPTS
    if "$mf_pc" -bh -q "$mf_id" | "$mf_sm" -f "\${mf_from:-<>}" -- "$@"; then
      "$mf_ps" -d "$mf_id" >/dev/null 2>&1 || return 1
    else
      echo "mailfleet: could not hand message $mf_id to the new MTA; Postfix is kept" >&2
      return 1
    fi
  done
  "$mf_pq" -p 2>/dev/null | grep -q 'queue is empty'
}`;

export const mtaHandoverHandler: ResourceHandler<MtaHandoverResource> = {
  probe: (r, ctx) =>
    ctx.sandbox
      ? "echo sandbox"
      : `${ctx.platform.packageProbe(r.package)}\nif [ -x ${shq(ctx.platform.postfix.postqueue)} ]; then ${shq(ctx.platform.postfix.postqueue)} -p 2>/dev/null | tail -n 1; fi`,
  diff(r, lines, ctx) {
    if (ctx.sandbox) return sandboxSkip(r.id, "mtaHandover", r.package, `hand the ${r.from} queue over and remove ${r.package} if installed`);
    const version = packageVersion(lines);
    if (version === null) return null;
    const queue = (lines[1] ?? "").trim();
    const state = /empty/i.test(queue) || queue === "" ? "queue empty" : queue.replace(/^-- /, "");
    return {
      id: r.id,
      kind: "mtaHandover",
      action: "remove",
      target: r.package,
      summary: `remove ${r.package} ${version} after its queue is delivered or handed over (${state})`,
    };
  },
  apply(r, _change, ctx) {
    const pf = ctx.platform.postfix;
    return [
      HANDOVER_FN,
      `mf_postfix_handover ${shq(pf.postqueue)} ${shq(pf.postcat)} ${shq(pf.postsuper)} ${shq(r.sendmail)} 30 || mf_fail ${shq(`${r.package} still holds mail; it was kept (run apply again)`)}`,
      `{ ${ctx.platform.serviceStop(r.service)}; } 2>/dev/null`,
      `${ctx.platform.packageRemove(r.package)} || mf_fail ${shq(`cannot remove ${r.package}`)}`,
    ].join("\n");
  },
};
