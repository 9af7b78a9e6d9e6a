// nullmailer's queue for an MTA switch (see roles/lib/mta): one file per message
// in queue/, in the parking format already, so parking is a rename().
import { code, hostPath, sh } from "../../src/shell/builder.ts";
import { lsFiles } from "../lib/mta/queue-status.ts";
import type { MtaQueue, QueuedMessage } from "../lib/mta/types.ts";
import type { NullmailerData } from "./platforms.ts";

const FUNCTIONS = code(`mf_nm_count() { mf_count "$1/queue"; echo "$mf_n"; }
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
}
mf_nm_flush() { # SPOOL: pull the trigger without blocking; fails when no nullmailer-send took it within a second
  ( printf 1 > "$1/trigger" ) 2>/dev/null & mf_tp=$!
  sleep 1
  if kill "$mf_tp" 2>/dev/null; then wait "$mf_tp" 2>/dev/null; return 1; fi
  wait "$mf_tp"
}
mf_nm_status() { # SPOOL: its queue and failed directories, listed (the trailing / follows a persistent spool's link)
  for mf_d in queue failed; do
    echo "@dir $mf_d"
    [ -d "$1/$mf_d" ] && ls -ln "$1/$mf_d/"
  done
  return 0
}`);

/**
 * nullmailer-queue names each message <seconds>.<pid> when it takes it; what
 * nullmailer-send gave up on is in failed/. It keeps no record of why a
 * try failed (that goes to its log) nor which messages were tried.
 */
export function parseNullmailerStatus(text: string): QueuedMessage[] {
  const out: QueuedMessage[] = [];
  let dir = "";
  const lines: string[] = [];
  const flush = () => {
    for (const f of lsFiles(lines)) {
      const arrived = Number(/^(\d+)\./.exec(f.name)?.[1]);
      if (Number.isFinite(arrived)) out.push({ state: dir === "failed" ? "failed" : "queued", bytes: f.bytes, arrived, errors: [] });
    }
    lines.length = 0;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("@dir ")) {
      flush();
      dir = line.slice(5);
    } else lines.push(line);
  }
  flush();
  return out;
}

export function nullmailerQueue(nm: NullmailerData): MtaQueue {
  const spool = hostPath(nm.spool);
  return {
    mta: "nullmailer",
    title: "nullmailer",
    package: nm.package,
    service: nm.service,
    functions: FUNCTIONS,
    present: sh`[ -d ${spool}/queue ]`,
    count: sh`mf_nm_count ${spool}`,
    flush: sh`mf_nm_flush ${spool}`,
    flushNeedsService: true,
    park: sh`mf_nm_park ${spool}`,
    sendmail: [nm.sendmail],
    status: sh`mf_nm_status ${spool}`,
    parseStatus: parseNullmailerStatus,
    knows: { states: ["queued", "failed"], errors: false },
  };
}
