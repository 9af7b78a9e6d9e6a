// Postfix's queue for an MTA switch (see roles/lib/mta): each message still in
// incoming, active, deferred or hold is written in the parking format (sender,
// recipients, blank line, message as postcat -bh prints it), synced, and only
// then deleted with postsuper.
import { code, hostPath, sh } from "../../../src/shell/builder.ts";
import { destinationOf } from "../mta/queue-status.ts";
import type { MtaQueue, QueuedMessage, QueueState } from "../mta/types.ts";
import type { PostfixData } from "./platforms.ts";

const FUNCTIONS = code(`mf_pf_ids() { # CONF POSTCONF: queue ids in incoming, active, deferred and hold
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
}`);

const POSTFIX_STATES: Record<string, QueueState> = { maildrop: "queued", incoming: "queued", active: "queued", deferred: "deferred", hold: "held" };

interface PostqueueJson {
  queue_name?: string;
  arrival_time?: number;
  message_size?: number;
  recipients?: { address?: string; delay_reason?: string }[];
}

/** `postqueue -j`: one JSON object per message (Postfix 3.1+); a bounce is not kept, so nothing is "failed". */
export function parsePostqueueJson(text: string): QueuedMessage[] {
  return text.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    let m: PostqueueJson;
    try {
      m = JSON.parse(line) as PostqueueJson;
    } catch {
      return [];
    }
    return [
      {
        state: POSTFIX_STATES[m.queue_name ?? ""] ?? "queued",
        bytes: m.message_size ?? 0,
        arrived: m.arrival_time ?? 0,
        errors: (m.recipients ?? []).flatMap((r) => (r.delay_reason && r.address !== undefined ? [{ destination: destinationOf(r.address), text: r.delay_reason }] : [])),
      },
    ];
  });
}

export function postfixQueue(pf: PostfixData): MtaQueue {
  return {
    mta: "postfix",
    title: "Postfix",
    package: pf.package,
    service: pf.service,
    functions: FUNCTIONS,
    // under a root prefix (a sandbox) the tools must be there too: never the queue of the machine running mailfleet
    present: sh`[ -x ${hostPath(pf.postqueue)} ] && [ -x ${hostPath(pf.postconf)} ]`,
    count: sh`mf_pf_count ${pf.configDir} ${pf.postconf}`,
    flush: sh`${pf.postqueue} -c ${pf.configDir} -f >/dev/null 2>&1`,
    flushNeedsService: false,
    park: sh`mf_pf_park ${pf.configDir} ${pf.postconf} ${pf.postcat} ${pf.postsuper}`,
    sendmail: [pf.sendmail, "-C", pf.configDir],
    // with the mail system down, postqueue reads the queue directory itself
    status: sh`${pf.postqueue} -c ${pf.configDir} -j`,
    parseStatus: parsePostqueueJson,
    knows: { states: ["queued", "deferred", "held"], errors: true },
    hold: sh`${pf.postsuper} -c ${pf.configDir} -h ALL`,
    release: sh`${pf.postsuper} -c ${pf.configDir} -H ALL`,
  };
}
