// Moves a spool's queue, tmp and failed into a persistent directory and links
// them back. Messages move by link (same filesystem) or copy + rename (another
// filesystem), and a source is removed only once its copy is complete and
// synced; a run interrupted at any point can simply be run again. The
// functions take host paths (without the root prefix) and read them inside
// $R themselves: a link's target is a host path too.
import { code, join, mode, sh } from "../../src/shell/builder.ts";
import { ownerWanted } from "../../src/resources/file.ts";
import { parsePathFacts, typeConflict } from "../../src/resources/facts.ts";
import type { Owned, ResourceHandler } from "../../src/resources/types.ts";

/** Moves queue/tmp/failed of a spool into a persistent directory and links them back. */
export interface SpoolMoveResource extends Owned {
  kind: "spoolMove";
  id: string;
  spool: string;
  dir: string;
  subdirs: string[];
  /** Service stopped while messages move, started again by its own resource. */
  service?: string;
}

declare module "../../src/resources/types.ts" {
  interface ResourceKinds {
    spoolMove: SpoolMoveResource;
  }
}


const PROBE_FN = code(`mf_spool_probe() { # SPOOL DIR SUB [OWNER]
  mf_s="$R$1/$3"
  printf 'sub %s ' "$3"; mf_stat "$mf_s"
  if [ -L "$mf_s" ]; then printf 'T '; mf_link_target "$mf_s"; fi
  # how many files wait is not a fact the plan rests on (~, left out of its hash); that some are left aside is
  if [ -d "$mf_s" ] && [ ! -L "$mf_s" ]; then mf_count "$mf_s"; echo "~count $mf_n"; fi
  if [ -d "$mf_s.mailfleet-old" ]; then mf_count "$mf_s.mailfleet-old"; echo old; echo "~old $mf_n"; fi
  printf 'target '; mf_stat "$R$2/$3"
  if [ -d "$R$2/$3" ] && [ ! -L "$R$2/$3" ]; then
    # what already waits there (a zone reprovisioned around its persistent spool), and how much of it the MTA's user does not own
    mf_count "$R$2/$3"; echo "~waiting $mf_n"
    [ -z "$4" ] || echo "~foreign $(find "$R$2/$3" -type f ! -user "$4" 2>/dev/null | wc -l)"
  fi
}`);

/**
 * Why a move of the spool would go onto itself, into itself or over a
 * directory holding it, with the host's own view of the paths (symlinks
 * followed, as in /home -> /var/spool), or nothing: mf_move_files would then
 * find every message "already copied" and unlink it. The probe prints it,
 * so the plan refuses the host before anything is written; the move checks
 * again.
 */
const OVERLAP_FN = code(`mf_spool_overlaps() { # SPOOL DIR SUB...
  mf_cs=$1; mf_cd=$2; shift 2
  mf_rs=$(mf_resolve "$mf_cs") && mf_rd=$(mf_resolve "$mf_cd") || { echo "cannot resolve $mf_cs or $mf_cd (a symlink loop?)"; return 0; }
  if mf_overlap "$mf_rs" "$mf_rd"; then
    echo "refusing to move the spool $mf_cs into $mf_cd: on this host they are $mf_rs and $mf_rd, the same directory or one inside the other"
    return 0
  fi
  for mf_sub; do
    mf_s="$R$mf_cs/$mf_sub"
    if [ -L "$mf_s" ]; then
      mf_from=$(mf_link_target "$mf_s")
      [ "$mf_from" = "$mf_cd/$mf_sub" ] && continue
    else
      mf_from=$mf_cs/$mf_sub
    fi
    mf_rf=$(mf_resolve "$mf_from") && mf_rt=$(mf_resolve "$mf_cd/$mf_sub") || { echo "cannot resolve $mf_from or $mf_cd/$mf_sub (a symlink loop?)"; return 0; }
    if mf_overlap "$mf_rf" "$mf_rt"; then
      echo "refusing to move $mf_from into $mf_cd/$mf_sub: on this host they are $mf_rf and $mf_rt, the same directory or one inside the other"
      return 0
    fi
  done
}
mf_spool_overlap_probe() { # SPOOL DIR SUB...
  mf_why=$(mf_spool_overlaps "$@")
  [ -z "$mf_why" ] || printf 'overlap %s\\n' "$mf_why"
}`);

const SPOOL_APPLY_FN = code(`mf_copy_of() { # FILE DIR NAME: DIR holds a copy of FILE, as NAME or as NAME.moved.* (globbing on)
  for mf_c in "$2/$3" "$2/$3".moved.*; do
    [ -f "$mf_c" ] && cmp -s "$1" "$mf_c" && return 0
  done
  return 1
}
mf_move_files() { # FROM TO: link or copy every entry, sync, then remove the sources
  rm -f "$2"/.mailfleet-part.* 2>/dev/null
  set +f
  for mf_f in "$1"/* "$1"/.[!.]*; do
    [ -f "$mf_f" ] || continue
    mf_n=\${mf_f##*/}
    case $mf_n in .mailfleet-part.*) continue ;; esac
    # already there (a run before this one was interrupted): never a second copy
    mf_copy_of "$mf_f" "$2" "$mf_n" && continue
    mf_to="$2/$mf_n"
    # another message of that name is there already: this one is kept beside it
    [ -e "$mf_to" ] && mf_to="$2/$mf_n.moved.$MF_STAMP.$$"
    ln "$mf_f" "$mf_to" 2>/dev/null && continue
    cp -p "$mf_f" "$2/.mailfleet-part.$mf_n" && mv -f "$2/.mailfleet-part.$mf_n" "$mf_to" || { set -f; return 1; }
  done
  sync 2>/dev/null
  for mf_f in "$1"/* "$1"/.[!.]*; do
    [ -f "$mf_f" ] || continue
    mf_n=\${mf_f##*/}
    case $mf_n in .mailfleet-part.*) rm -f "$mf_f"; continue ;; esac
    if mf_copy_of "$mf_f" "$2" "$mf_n"; then rm -f "$mf_f" || { set -f; return 1; }; fi
  done
  for mf_f in "$1"/* "$1"/.[!.]*; do [ -f "$mf_f" ] && { set -f; return 1; }; done
  set -f
  return 0
}
mf_spool_check() { # SPOOL DIR SUB...: refused before any message moves (the probe refused it already, unless the host changed since)
  mf_why=$(mf_spool_overlaps "$@")
  [ -z "$mf_why" ] || mf_fail "$mf_why; no message was moved"
}
mf_spool_move() { # SPOOL DIR SUB MODE OWNER GROUP
  mf_s="$R$1/$3"; mf_d="$R$2/$3"; mf_o="$mf_s.mailfleet-old"
  [ -d "$mf_d" ] || mkdir -p "$mf_d" || return 1
  chmod "$4" "$mf_d" || return 1
  if [ -n "$5" ]; then chown "$5:$6" "$mf_d" || return 1; fi
  if [ -L "$mf_s" ]; then
    set -- "$@" "$(mf_link_target "$mf_s")"
    if [ "$7" != "$2/$3" ]; then
      [ -d "$R$7" ] && { mf_move_files "$R$7" "$mf_d" || return 1; }
      rm -f "$mf_s" || return 1
    fi
  elif [ -d "$mf_s" ]; then
    mf_move_files "$mf_s" "$mf_d" || return 1
    if [ -d "$mf_o" ]; then mf_move_files "$mf_o" "$mf_d" && rmdir "$mf_o" || return 1; fi
    mv "$mf_s" "$mf_o" || return 1
  fi
  [ -L "$mf_s" ] || ln -s "$2/$3" "$mf_s" || return 1
  if [ -d "$mf_o" ]; then
    mf_move_files "$mf_o" "$mf_d" || return 1
    rmdir "$mf_o" || return 1
  fi
  return 0
}
mf_spool_own() { # DIR SUB OWNER GROUP: queued files another image's uid left are given to the MTA's user, which must read them
  find "$R$1/$2" -type f ! -user "$3" -exec chown "$3:$4" {} + || return 1
}`);

interface SubState {
  sub: string;
  kind: string;
  /** The stat line of <spool>/<sub> (see mf_stat). */
  stat: string;
  link?: string;
  count: number;
  /** <spool>/<sub>.mailfleet-old is there: a move was interrupted after setting the directory aside. */
  hasOld: boolean;
  old: number;
  target: string;
  targetStat: string;
  /** Files already in <dir>/<sub>. */
  waiting: number;
  /** Of those, files the spool's owner does not own (another image's uid). */
  foreign: number;
}

function parse(lines: string[]): { subs: SubState[]; overlap?: string } {
  const out: SubState[] = [];
  let overlap: string | undefined;
  let cur: SubState | undefined;
  for (const line of lines) {
    const [tag, ...rest] = line.trim().split(/\s+/);
    if (tag === "overlap") overlap = line.trim().slice("overlap ".length);
    else if (tag === "sub") {
      cur = { sub: rest[0]!, kind: rest[1] ?? "missing", stat: rest.slice(1).join(" "), count: 0, hasOld: false, old: 0, target: "missing", targetStat: "missing", waiting: 0, foreign: 0 };
      out.push(cur);
    } else if (!cur) continue;
    else if (tag === "T") cur.link = line.slice(2);
    else if (tag === "~count") cur.count = Number(rest[0]);
    else if (tag === "old") cur.hasOld = true;
    else if (tag === "~old") cur.old = Number(rest[0]);
    else if (tag === "~waiting") cur.waiting = Number(rest[0]);
    else if (tag === "~foreign") cur.foreign = Number(rest[0]);
    else if (tag === "target") {
      cur.target = rest[0] ?? "missing";
      cur.targetStat = rest.join(" ");
    }
  }
  return { subs: out, overlap };
}

export const spoolMoveHandler: ResourceHandler<SpoolMoveResource> = {
  statPaths: (r) => r.subdirs.flatMap((s) => [`${r.spool}/${s}`, `${r.dir}/${s}`]),
  probe: (r, ctx) => {
    const { owner } = ownerWanted(r, ctx);
    return join([PROBE_FN, OVERLAP_FN, sh`mf_spool_overlap_probe ${r.spool} ${r.dir} ${r.subdirs}`, ...r.subdirs.map((s) => sh`mf_spool_probe ${r.spool} ${r.dir} ${s} ${owner}`)]);
  },
  diff(r, lines, ctx) {
    const { subs: states, overlap } = parse(lines);
    const todo: string[] = [];
    let messages = 0;
    let waiting = 0;
    let foreign = 0;
    for (const sub of r.subdirs) {
      const st = states.find((s) => s.sub === sub);
      const want = `${r.dir}/${sub}`;
      if (!st) {
        todo.push(sub);
        continue;
      }
      // the spool's own directory is moved, a link is pointed anew; anything else there is the admin's to move away
      if (!["d", "l", "missing"].includes(st.kind)) {
        return typeConflict(r, `${r.spool}/${sub}`, parsePathFacts([st.stat]), `a directory of queued mail, or a link to ${want}`);
      }
      if (!["d", "missing"].includes(st.target)) return typeConflict(r, want, parsePathFacts([st.targetStat]), "a directory for queued mail");
      const linked = st.kind === "l" && st.link === want;
      // an empty directory set aside is litter of an interrupted move: the move finishes by removing it
      if (!linked || st.hasOld || st.target !== "d") todo.push(sub);
      messages += st.count + st.old;
      waiting += st.sub === "tmp" ? 0 : st.waiting;
      foreign += st.foreign;
    }
    // what is of the wrong type is said first (move it away); a move onto or into itself is refused whatever else
    if (overlap) {
      const conflict = overlap.replace(/^refusing to move /, "moving ");
      return { id: r.id, kind: "spoolMove", action: "move", target: r.spool, summary: `refused: ${conflict}`, conflict };
    }
    if (todo.length === 0 && foreign === 0) return null;
    const files = (n: number) => `${n} queued file${n === 1 ? "" : "s"}`;
    const { owner, group } = ownerWanted(r, ctx);
    const parts = [
      ...(todo.length ? [`move ${todo.map((s) => `${r.spool}/${s}`).join(", ")} to ${r.dir} (${files(messages)}) and link them back`] : []),
      ...(todo.length && waiting ? [`${files(waiting)} already in ${r.dir}: kept, and delivered from there`] : []),
      ...(foreign ? [`give ${r.dir}'s ${files(foreign)} owned by another user to ${owner}:${group} (an earlier image's uid), so that the MTA can read them`] : []),
    ];
    return {
      id: r.id,
      kind: "spoolMove",
      action: "move",
      target: r.spool,
      summary: parts.join("; "),
      data: { subs: todo.join(" "), messages, waiting, foreign },
    };
  },
  apply(r, change, ctx) {
    const { owner, group } = ownerWanted(r, ctx);
    const subs = String(change.data?.subs ?? r.subdirs.join(" ")).split(" ").filter(Boolean);
    const stop =
      r.service && !ctx.sandbox
        ? sh`if [ "$(${ctx.platform.serviceProbe(r.service)})" = running ]; then ${ctx.platform.serviceStop(r.service)} || mf_fail ${`cannot stop ${r.service} before moving its spool`}; fi`
        : undefined;
    const check = sh`mf_spool_check ${r.spool} ${r.dir} ${subs}`;
    const moves = subs.map(
      (s) =>
        sh`mf_spool_move ${r.spool} ${r.dir} ${s} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`moving ${r.spool}/${s} to ${r.dir} stopped; run apply again to finish (no message is lost)`}`,
    );
    const own = owner
      ? r.subdirs.map((s) => sh`mf_spool_own ${r.dir} ${s} ${owner} ${group} || mf_fail ${`cannot give the queued files in ${r.dir}/${s} to ${owner}; nullmailer could not read them`}`)
      : [];
    return join([OVERLAP_FN, SPOOL_APPLY_FN, subs.length ? check : undefined, stop, ...moves, ...own]);
  },
};
