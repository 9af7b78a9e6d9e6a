// nullmailer's queue for an MTA switch (see roles/lib/mta): one file per message
// in queue/, in the parking format already, so parking is a rename().
import { code, hostPath, sh } from "../../src/shell/builder.ts";
import type { MtaQueue } from "../lib/mta/types.ts";
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
}`);

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
    // pull the trigger without blocking when no nullmailer-send reads it
    flush: sh`( printf 1 > ${spool}/trigger ) 2>/dev/null & mf_tp=$!; sleep 1; kill "$mf_tp" 2>/dev/null`,
    flushNeedsService: true,
    park: sh`mf_nm_park ${spool}`,
    sendmail: [nm.sendmail],
  };
}
