// OpenSMTPD's queue for an MTA switch (see roles/lib/mta): smtpctl counts it (it
// reads the queue with smtpd stopped too) and `smtpctl schedule all` flushes
// it, once the routes smtpd disabled after errors are resumed. Parking reads the queue directory itself, smtpd stopped: each message
// is queue/<bucket>/<msgid>/message plus one envelope file per recipient
// ("sender: ...", "dest: ..." lines; the null sender is "sender: @"). It is
// written in the parking format (sender, the envelopes' final recipients,
// blank line, message), synced, and only then removed from the queue. The
// final recipient (dest, after alias expansion) is parked, not the RCPT TO:
// an alias expanded into several envelopes, some already delivered, must not
// be delivered again. A message with a bounce envelope, or envelopes of
// different senders, is left in place and the park fails (the handover then
// keeps the old MTA).
import { code, hostPath, sh } from "../../src/shell/builder.ts";
import { destinationOf, lsFiles } from "../lib/mta/queue-status.ts";
import type { MtaQueue, QueuedMessage } from "../lib/mta/types.ts";
import type { OpensmtpdData } from "./platforms.ts";

const FUNCTIONS = code(`mf_os_dirs() { # SPOOL: how many messages queue/ and offline/ hold
  set +f; mf_n=0
  for mf_m in "$1"/queue/*/* "$1"/offline/*; do [ -f "$mf_m/message" ] || [ -f "$mf_m" ] && mf_n=$((mf_n + 1)); done
  set -f; echo "$mf_n"
}
mf_os_count() { # SMTPCTL SPOOL: queued messages (smtpctl lists one line per envelope), plus offline submissions
  if mf_q=$("$1" show queue 2>/dev/null); then
    mf_n=$(printf '%s\\n' "$mf_q" | sed -n 's/^\\([0-9a-f]\\{8\\}\\)[0-9a-f]\\{8\\}|.*/\\1/p' | sort -u | grep -c .)
    set +f; for mf_m in "$2"/offline/*; do [ -f "$mf_m" ] && mf_n=$((mf_n + 1)); done; set -f
    echo "$mf_n"
  else
    mf_os_dirs "$2"
  fi
}
mf_os_park() { # SMTPCTL SPOOL PARK
  mf_parked=; mf_um=$(umask); umask 077; mf_nl='
'
  set +f
  for mf_m in "$2"/queue/*/*; do
    [ -f "$mf_m/message" ] || continue
    mf_id=\${mf_m##*/}; mf_from=; mf_rcpts=; mf_ok=1
    for mf_e in "$mf_m"/*; do
      [ -f "$mf_e" ] && [ "\${mf_e##*/}" != message ] || continue
      case $(sed -n 's/^type: //p' "$mf_e") in mta|mda) ;; *) mf_ok=; break ;; esac
      mf_s=$(sed -n 's/^sender: //p' "$mf_e"); [ "$mf_s" = @ ] && mf_s=
      [ -n "$mf_rcpts" ] || mf_from=$mf_s
      [ "$mf_s" = "$mf_from" ] || { mf_ok=; break; }
      mf_rcpts="$mf_rcpts$(sed -n 's/^dest: //p' "$mf_e")$mf_nl"
    done
    [ -n "$mf_ok" ] && [ -n "$mf_rcpts" ] || continue
    mf_t="$3/.part.opensmtpd.$mf_id"
    { printf '%s\\n%s\\n' "$mf_from" "$mf_rcpts" && cat "$mf_m/message"; } > "$mf_t" && mv -f "$mf_t" "$3/opensmtpd.$mf_id" || { rm -f "$mf_t"; set -f; umask "$mf_um"; return 1; }
    mf_parked="$mf_parked $mf_m"
  done
  set -f; umask "$mf_um"
  sync 2>/dev/null
  for mf_m in $mf_parked; do rm -rf "$mf_m" || return 1; done
  [ "$(mf_os_count "$1" "$2")" -eq 0 ]
}
mf_os_flush() { # SMTPCTL: a route disabled after errors is resumed first, else the scheduled envelopes fail on it at once
  for mf_r in $("$1" show routes 2>/dev/null | sed -n 's/^\\([0-9][0-9]*\\)\\. .*/\\1/p'); do "$1" resume route "$mf_r" >/dev/null 2>&1; done
  "$1" schedule all >/dev/null 2>&1
}
mf_os_status() { # SMTPCTL SPOOL: the envelopes as smtpctl shows them, then each message's size
  echo "@envelopes"
  "$1" show queue
  echo "@sizes"
  set +f
  for mf_m in "$2"/queue/*/*/message; do [ -f "$mf_m" ] && ls -ln "$mf_m"; done
  echo "@offline"
  [ -d "$2/offline" ] && ls -ln "$2/offline/"
  set -f
  return 0
}`);

/**
 * \`smtpctl show queue\` prints one line per envelope (a message has one per
 * recipient): evpid|origin|type|flags|sender|rcpt|dest|created|expires|
 * last try|retries|run state|n|error. A message is held when one of its
 * envelopes is, deferred when one was tried (retries > 0). What smtpd was
 * not running to take (offline/) waits to be enqueued.
 */
export function parseSmtpctlQueue(text: string): QueuedMessage[] {
  const messages = new Map<string, QueuedMessage>();
  const sizes = new Map<string, number>();
  let section = "";
  const offline: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("@")) {
      section = line;
      continue;
    }
    if (section === "@envelopes") {
      const f = line.split("|");
      if (f.length < 14 || !/^[0-9a-f]{16}$/.test(f[0]!)) continue;
      const id = f[0]!.slice(0, 8);
      const m = messages.get(id) ?? { state: "queued", bytes: 0, arrived: Number(f[7]), errors: [] };
      const flags = f[3]!.split(",");
      if (flags.includes("hold") || flags.includes("suspend")) m.state = "held";
      else if (m.state !== "held" && Number(f[10]) > 0) m.state = "deferred";
      const error = f.slice(13).join("|").trim().replace(/^"(.*)"$/, "$1");
      if (error) m.errors.push({ destination: destinationOf(f[6]!), text: error });
      messages.set(id, m);
    } else if (section === "@sizes") {
      const [file] = lsFiles([line]);
      const id = /\/([0-9a-f]{8})\/message$/.exec(file?.name ?? "")?.[1];
      if (file && id) sizes.set(id, file.bytes);
    } else if (section === "@offline") offline.push(line);
  }
  const out = [...messages].map(([id, m]) => ({ ...m, bytes: sizes.get(id) ?? 0 }));
  // offline/<uid>.<random>: no arrival time in the name; counted, of unknown age
  for (const f of lsFiles(offline)) out.push({ state: "queued", bytes: f.bytes, arrived: Number.NaN, errors: [] });
  return out;
}

export function opensmtpdQueue(os: OpensmtpdData): MtaQueue {
  const spool = hostPath(os.spool);
  return {
    mta: "opensmtpd",
    title: "OpenSMTPD",
    package: os.package,
    service: os.service,
    functions: FUNCTIONS,
    // under a root prefix (a sandbox) the tools must be there too: never the queue of the machine running mailfleet
    present: sh`[ -x ${hostPath(os.smtpctl)} ] && [ -d ${spool}/queue ]`,
    count: sh`mf_os_count ${os.smtpctl} ${spool}`,
    flush: sh`mf_os_flush ${os.smtpctl}`,
    flushNeedsService: true,
    park: sh`mf_os_park ${os.smtpctl} ${spool}`,
    sendmail: [os.sendmail],
    status: sh`mf_os_status ${os.smtpctl} ${spool}`,
    parseStatus: parseSmtpctlQueue,
    knows: { states: ["queued", "deferred", "held"], errors: true },
    hold: sh`${os.smtpctl} pause envelope all >/dev/null`,
    release: sh`${os.smtpctl} resume envelope all >/dev/null`,
  };
}
