// Moves a mail store when its base changes (mail.base /var/vmail ->
// /srv/vmail): where the store is now is read from the host itself, from the
// homes (<base>/<domain>/<user>) of the file that lists the mailboxes (the
// passwd-file, still the old one: this runs before it is rewritten). Every
// mailbox under the old base moves, the inventory's or not: nothing is left
// where no daemon reads it.
//
// Interrupt-safe, like the spool move: a mailbox moves by one rename (same
// filesystem), or is copied beside its destination under a dot name, synced,
// renamed into place and only then removed at the source; a destination that
// already holds the mailbox (an earlier run was killed after its rename, or
// mail arrived there) gets every file it lacks, linked or copied, before the
// source goes. A killed run leaves every message in one place or both, never
// in none, and the next apply finishes it. The service that delivers and
// reads there is stopped meanwhile (the MTAs in front defer and keep the
// mail) and started again by its own resource.
import { code, join, mode, sh } from "../../src/shell/builder.ts";
import { ownerWanted } from "../../src/resources/file.ts";
import type { Owned, Change, ResourceHandler } from "../../src/resources/types.ts";

/**
 * Moves the mail store to `base` from wherever the host's mailbox list says
 * it is now (the homes <base>/<domain>/<user> in field `field` of the
 * colon-separated `file`, read before that file is rewritten). Must come
 * before the resources that write that list.
 */
export interface MailStoreMoveResource extends Owned {
  kind: "mailStoreMove";
  id: string;
  base: string;
  homes: { file: string; field: number };
  /** Stopped while the mail moves, started again by its own resource (list this resource among its inputs). */
  service?: string;
}

declare module "../../src/resources/types.ts" {
  interface ResourceKinds {
    mailStoreMove: MailStoreMoveResource;
  }
}


const PROBE_FN = code(`mf_store_probe() { # HOMES-FILE FIELD NEW-BASE
  [ -f "$R$1" ] || return 0
  # the bases the homes lie in: <base>/<domain>/<user>, two levels up; no hash is printed
  awk -F: -v f="$2" '$0 !~ /^[ \\t]*(#|$)/ { h = $f; sub(/\\/[^\\/]*\\/[^\\/]*$/, "", h); if (h != "") print h }' "$R$1" | sort -u | while IFS= read -r mf_b; do
    [ "$mf_b" = "$3" ] && continue
    printf 'was %s\\n' "$mf_b"
    [ -d "$R$mf_b" ] || { echo "~gone"; continue; }
    set +f; mf_nb=0; for mf_m in "$R$mf_b"/*/*; do [ -d "$mf_m" ] && [ ! -L "$mf_m" ] && mf_nb=$((mf_nb + 1)); done; set -f
    # how much mail waits is not a fact the plan rests on (~)
    echo "~mailboxes $mf_nb"
    echo "~messages $(find "$R$mf_b" -type f \\( -path '*/cur/*' -o -path '*/new/*' \\) 2>/dev/null | wc -l | tr -d ' ')"
  done
}`);

const APPLY_FN = code(`mf_store_same_fs() { # FROM TO (inside $R): a hard link from one to the other works
  mf_t="$1/.mailfleet-fs.$$"
  : > "$mf_t" 2>/dev/null || return 1
  if ln "$mf_t" "$2/.mailfleet-fs.$$" 2>/dev/null; then rm -f "$mf_t" "$2/.mailfleet-fs.$$"; return 0; fi
  rm -f "$mf_t"; return 1
}
mf_store_merge() { # FROM TO PART: every file of FROM that TO lacks, linked or copied (through PART), synced; then FROM goes
  ( cd "$1" && find . -type d ) | while IFS= read -r mf_d; do [ -d "$2/$mf_d" ] || mkdir -p "$2/$mf_d" || exit 1; done || return 1
  mkdir -p "$3" || return 1
  ( cd "$1" && find . -type f ) | while IFS= read -r mf_f; do
    mf_to="$2/$mf_f"
    if [ -e "$mf_to" ]; then
      cmp -s "$1/$mf_f" "$mf_to" && continue
      # Dovecot's own state (indexes, uid list) of the destination wins; it rebuilds what it lacks
      case \${mf_f##*/} in dovecot*|subscriptions|maildirfolder|maildirsize) continue ;; esac
      mf_to="$mf_to.moved.$MF_STAMP.$$"
    fi
    ln "$1/$mf_f" "$mf_to" 2>/dev/null && continue
    cp -p "$1/$mf_f" "$3/part" && mv -f "$3/part" "$mf_to" || exit 1
  done || return 1
  sync 2>/dev/null
  rm -rf "$3" "$1"
}
mf_store_move() { # OLD NEW MODE OWNER GROUP (host paths)
  mf_o="$R$1"; mf_n="$R$2"
  mf_ro=$(mf_resolve "$1") && mf_rn=$(mf_resolve "$2") || mf_fail "cannot resolve $1 or $2 (a symlink loop?); no mail was moved"
  if mf_overlap "$mf_ro" "$mf_rn"; then
    mf_fail "refusing to move the mail store $1 to $2: on this host they are $mf_ro and $mf_rn, the same directory or one inside the other; no mail was moved"
  fi
  [ -d "$mf_n" ] || mkdir -p "$mf_n" || return 1
  chmod "$3" "$mf_n" || return 1
  if [ -n "$4" ]; then chown "$4:$5" "$mf_n" || return 1; fi
  # what a run killed in the middle of the filesystem test left behind
  set +f; rm -f "$mf_o"/.mailfleet-fs.* "$mf_n"/.mailfleet-fs.*; set -f
  mf_same=0; mf_store_same_fs "$mf_o" "$mf_n" && mf_same=1
  set +f
  for mf_m in "$mf_o"/*/*; do
    [ -d "$mf_m" ] && [ ! -L "$mf_m" ] || continue
    mf_u=\${mf_m##*/}; mf_dom=\${mf_m%/*}; mf_dom=\${mf_dom##*/}
    mf_to="$mf_n/$mf_dom/$mf_u"; mf_part="$mf_n/$mf_dom/.mailfleet-part.$mf_u"
    if [ ! -d "$mf_n/$mf_dom" ]; then
      mkdir "$mf_n/$mf_dom" || { set -f; return 1; }
      chmod 700 "$mf_n/$mf_dom" 2>/dev/null
      if [ -n "$4" ]; then chown "$4:$5" "$mf_n/$mf_dom" || { set -f; return 1; }; fi
    fi
    if [ -e "$mf_to" ]; then
      mf_store_merge "$mf_m" "$mf_to" "$mf_part" || { set -f; return 1; }
    elif [ "$mf_same" = 1 ]; then
      mv "$mf_m" "$mf_to" || { set -f; return 1; }
    else
      rm -rf "$mf_part"
      cp -Rp "$mf_m" "$mf_part" && sync 2>/dev/null && mv "$mf_part" "$mf_to" && rm -rf "$mf_m" || { set -f; return 1; }
    fi
  done
  # what is left: the domain directories emptied, then the base itself; anything else stays and is said
  for mf_d in "$mf_o"/*; do [ -d "$mf_d" ] && rmdir "$mf_d" 2>/dev/null; done
  set -f
  rmdir "$mf_o" 2>/dev/null || echo "mailfleet: $1 still holds files that are no mailbox; left there" >&2
  return 0
}`);

interface Was {
  base: string;
  gone: boolean;
  mailboxes: number;
  messages: number;
}

function parse(lines: string[]): Was[] {
  const out: Was[] = [];
  for (const line of lines) {
    if (line.startsWith("was ")) out.push({ base: line.slice(4), gone: false, mailboxes: 0, messages: 0 });
    const cur = out[out.length - 1];
    if (!cur) continue;
    if (line === "~gone") cur.gone = true;
    else if (line.startsWith("~mailboxes ")) cur.mailboxes = Number(line.slice(11));
    else if (line.startsWith("~messages ")) cur.messages = Number(line.slice(10));
  }
  return out;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export const mailStoreMoveHandler: ResourceHandler<MailStoreMoveResource> = {
  probe: (r) => join([PROBE_FN, sh`mf_store_probe ${r.homes.file} ${String(r.homes.field)} ${r.base}`]),
  diff(r, lines): Change | null {
    const from = parse(lines).filter((w) => !w.gone);
    if (!from.length) return null;
    const mailboxes = from.reduce((n, w) => n + w.mailboxes, 0);
    const messages = from.reduce((n, w) => n + w.messages, 0);
    return {
      id: r.id,
      kind: "mailStoreMove",
      action: "move",
      target: r.base,
      summary: `move the mail store ${from.map((w) => w.base).join(", ")} to ${r.base} (${plural(mailboxes, "mailbox", "mailboxes")}, ${plural(messages, "message", "messages")})${r.service ? `, ${r.service} stopped meanwhile (mail for it waits in the MTA's queue)` : ""}`,
      data: { from: from.map((w) => w.base).join("\n"), mailboxes, messages },
    };
  },
  apply(r, change, ctx) {
    const { owner, group } = ownerWanted(r, ctx);
    const from = String(change.data?.from ?? "").split("\n").filter(Boolean);
    const stop =
      r.service && !ctx.sandbox
        ? sh`if [ "$(${ctx.platform.serviceProbe(r.service)})" = running ]; then ${ctx.platform.serviceStop(r.service)} || mf_fail ${`cannot stop ${r.service} before moving its mail store`}; fi`
        : undefined;
    return join([
      APPLY_FN,
      stop,
      ...from.map((old) => sh`mf_store_move ${old} ${r.base} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`moving the mail store ${old} to ${r.base} stopped; run apply again to finish (no message is lost)`}`),
    ]);
  },
};
