// Helpers every probe and apply script starts with: POSIX sh functions
// (dash, ksh93 on illumos, busybox sh) using POSIX utilities only. The probe
// helpers (mf_stat, mf_probe_path, mf_count, mf_link_target) take a path as
// the shell sees it (builder.ts hostPath: "$R"/etc/x); the helpers that
// manage a host path (mf_write, mf_own, mf_resolve) take the host path and
// read it inside $R themselves, as the paths they name are the host's.
import { code, sh, type Sh } from "./builder.ts";

const PROBE_HELPERS = `# The probe lists every path it will look at with one ls (MF_LS); mf_ls_line
# finds a path's line there with builtins only, falling back to its own ls.
MF_LS=
mf_ls_line() {
  mf_line=
  mf_ifs=$IFS; IFS='
'
  for mf_l in $MF_LS; do
    case $mf_l in
      l*" $1 -> "*) [ "$2" = l ] && { mf_line=$mf_l; break; } ;;
      l*) ;;
      *" $1") [ "$2" != l ] && { mf_line=$mf_l; break; } ;;
    esac
  done
  IFS=$mf_ifs
  [ -n "$mf_line" ] || mf_line=$(ls -ld "$1")
}
# type mode owner group size of a path, or "missing"
mf_stat() {
  if [ -L "$1" ]; then mf_t=l; elif [ -d "$1" ]; then mf_t=d; elif [ -p "$1" ]; then mf_t=p;
  elif [ -f "$1" ]; then mf_t=f; elif [ -e "$1" ]; then mf_t=o; else echo missing; return 0; fi
  mf_ls_line "$1" "$mf_t"
  set -- $mf_line
  echo "$mf_t $1 $3 $4 $5"
}
# where symlink $1 points: ls prints "... $1 -> target", and $1 itself may hold " -> "
mf_link_target() { mf_ls_line "$1" l && printf '%s\n' "\${mf_line#*" $1 -> "}"; }
# mf_resolve PATH: host path PATH (without $R) with every symlink followed as
# the host sees it (an absolute target stays inside $R); fails after 40 links.
mf_resolve() {
  mf_todo=$1; mf_out=; mf_hops=0
  while [ -n "$mf_todo" ]; do
    case $mf_todo in
      /*) mf_todo=\${mf_todo#/}; continue ;;
      */*) mf_c=\${mf_todo%%/*}; mf_todo=\${mf_todo#*/} ;;
      *) mf_c=$mf_todo; mf_todo= ;;
    esac
    case $mf_c in
      .) continue ;;
      ..) mf_out=\${mf_out%/*}; continue ;;
    esac
    if [ -L "$R$mf_out/$mf_c" ]; then
      mf_hops=$((mf_hops + 1)); [ "$mf_hops" -le 40 ] || return 1
      mf_lt=$(mf_link_target "$R$mf_out/$mf_c") || return 1
      case $mf_lt in /*) mf_out= ;; esac
      mf_todo=$mf_lt/$mf_todo
    else
      mf_out=$mf_out/$mf_c
    fi
  done
  printf '%s\n' "\${mf_out:-/}"
}
# mf_inside_root PATH...: with a root prefix, the deepest existing directory
# above each host path, as the kernel resolves it, lies inside $R: an absolute
# symlink in a sandbox tree (etc -> /etc) would take reads and writes out of it
mf_inside_root() {
  [ -n "$R" ] && [ -d "$R" ] || return 0
  mf_rp=$(cd "$R" && pwd -P) || { echo "mailfleet: cannot enter the root prefix $R" >&2; exit 1; }
  [ "$mf_rp" != / ] || { echo "mailfleet: the root prefix $R is / itself, not a sandbox" >&2; exit 1; }
  for mf_p; do
    mf_d=$R$mf_p; mf_d=\${mf_d%/*}
    while [ "\${#mf_d}" -gt "\${#R}" ] && [ ! -d "$mf_d" ]; do mf_d=\${mf_d%/*}; done
    mf_pd=$(cd "$mf_d" 2>/dev/null && pwd -P) || mf_pd=$mf_rp
    case $mf_pd/ in "$mf_rp"/*) ;; *)
      echo "mailfleet: \${mf_d#"$R"} in the root prefix leads out of it (to $mf_pd), so $mf_p would be outside $R; a sandbox is read and written only inside its root" >&2
      exit 1 ;;
    esac
  done
}
# mf_overlap A B: A is B, or one of them lies inside the other
mf_overlap() {
  [ "$1" = "$2" ] && return 0
  { [ "$1" = / ] || [ "$2" = / ]; } && return 0
  case $1/ in "$2"/*) return 0 ;; esac
  case $2/ in "$1"/*) return 0 ;; esac
  return 1
}
# mf_n = entries in directory $1 (dot files included), counted without a process
mf_count() {
  set +f; set -- "$1"/* "$1"/.[!.]* "$1"/..?*; set -f
  mf_n=0
  for mf_e; do { [ -e "$mf_e" ] || [ -L "$mf_e" ]; } && mf_n=$((mf_n + 1)); done
}
# stat, "T <target>" for a symlink, and for regular files up to $2 bytes as hex
mf_probe_path() {
  mf_stat "$1"
  if [ -L "$1" ]; then printf 'T '; mf_link_target "$1"
  elif [ -f "$1" ]; then od -An -v -tx1 -N "$2" "$1"; fi
}
`;

const APPLY_HELPERS = `MF_STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mf_fail() { echo "mailfleet: $*" >&2; exit 1; }
# mf_write PATH MODE OWNER GROUP CONTENT: temp file beside the target, mode and
# owner set, the old file kept as PATH.mailfleet-bak.<stamp>, then rename.
mf_write() {
  mf_p="$R$1"; mf_d=$(dirname "$mf_p"); mf_t="$mf_d/.mailfleet.$$.$(basename "$mf_p")"
  [ -d "$mf_d" ] || mkdir -p "$mf_d" || return 1
  (umask 077; printf '%b' "$5" > "$mf_t") || { rm -f "$mf_t"; return 1; }
  chmod "$2" "$mf_t" || { rm -f "$mf_t"; return 1; }
  if [ -n "$3" ]; then chown "$3:$4" "$mf_t" || { rm -f "$mf_t"; return 1; }; fi
  if [ -f "$mf_p" ] && [ ! -L "$mf_p" ]; then
    ln -f "$mf_p" "$mf_p.mailfleet-bak.$MF_STAMP" 2>/dev/null || cp -p "$mf_p" "$mf_p.mailfleet-bak.$MF_STAMP" || { rm -f "$mf_t"; return 1; }
  fi
  mv -f "$mf_t" "$mf_p"
}
mf_own() { # PATH MODE OWNER GROUP
  chmod "$2" "$R$1" || return 1
  if [ -n "$3" ]; then chown "$3:$4" "$R$1" || return 1; fi
}
MF_LOCK="$R/var/run/mailfleet.lock"
mf_lock() {
  [ -d "$R/var/run" ] || mkdir -p "$R/var/run" || mf_fail "cannot create $R/var/run for the lock"
  if mkdir "$MF_LOCK" 2>/dev/null; then
    echo $$ > "$MF_LOCK/pid"
    trap 'rm -rf "$MF_LOCK"' EXIT
    trap 'exit 130' INT TERM HUP
    return 0
  fi
  mf_holder=$(cat "$MF_LOCK/pid" 2>/dev/null)
  if [ -n "$mf_holder" ] && ! kill -0 "$mf_holder" 2>/dev/null && [ ! -d "/proc/$mf_holder" ]; then
    rm -rf "$MF_LOCK"
    mkdir "$MF_LOCK" 2>/dev/null && { echo $$ > "$MF_LOCK/pid"; trap 'rm -rf "$MF_LOCK"' EXIT; trap 'exit 130' INT TERM HUP; return 0; }
  fi
  echo "mailfleet: another apply is running on this host (lock $MF_LOCK held by pid \${mf_holder:-unknown}); try again when it has finished" >&2
  exit 75
}
`;

/** The start of every script: C locale, the platform's PATH, no globbing, R = the root prefix, and the probe helpers. */
export function prelude(root: string, basePath: readonly string[]): Sh {
  return sh`LC_ALL=C; export LC_ALL
PATH=${code(basePath.join(":"))}:$PATH; export PATH
set -f
R=${root}
${code(PROBE_HELPERS)}`;
}

/** Helpers only the apply script needs; with a root prefix, it is created first. */
export function applyPrelude(root: string): Sh {
  const makeRoot = root ? code(`[ -d "$R" ] || mkdir -p "$R" || mf_fail "cannot create the root prefix $R"`) : code("");
  return sh`${code(APPLY_HELPERS)}
${makeRoot}`;
}
