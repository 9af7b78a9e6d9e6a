// Helpers every probe and apply script starts with: POSIX sh functions
// (dash, ksh93 on illumos, busybox sh) using POSIX utilities only. The probe
// helpers (mf_stat, mf_probe_path, mf_count, mf_link_target) take a path as
// the shell sees it (builder.ts hostPath: "$R"/etc/x); the helpers that
// manage a host path (mf_write, mf_own, mf_resolve) take the host path and
// read it inside $R themselves, as the paths they name are the host's.
import { code, sh, type Sh } from "./builder.ts";

const probeHelpers = (FILE_ID: string, SHA256: string) => `# The probe lists every path it will look at with one ls (MF_LS); mf_ls_line
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
  # a directory's size says nothing (on tmpfs it follows the number of entries)
  if [ "$mf_t" = d ]; then echo "$mf_t $1 $3 $4 0"; else echo "$mf_t $1 $3 $4 $5"; fi
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
# mf_inside_root DIR...: with a root prefix, each host directory (or its
# deepest existing parent), as the kernel resolves it, lies inside $R: an
# absolute symlink in a sandbox tree (etc -> /etc) would take reads and writes
# out of it. cd -P sets PWD to the physical path: no process is started.
mf_inside_root() {
  [ -n "$R" ] && [ -d "$R" ] || return 0
  mf_here=$PWD
  cd -P -- "$R" 2>/dev/null || { echo "mailfleet: cannot enter the root prefix $R" >&2; exit 1; }
  mf_rp=$PWD
  [ "$mf_rp" != / ] || { echo "mailfleet: the root prefix $R is / itself, not a sandbox" >&2; exit 1; }
  for mf_p; do
    mf_d=$R$mf_p
    while [ "\${#mf_d}" -gt "\${#R}" ] && [ ! -d "$mf_d" ]; do mf_d=\${mf_d%/*}; done
    cd -P -- "$mf_d" 2>/dev/null || continue
    case $PWD/ in "$mf_rp"/*) ;; *)
      echo "mailfleet: \${mf_d#"$R"} in the root prefix $R resolves to $PWD, outside it (a symlink leads out); a sandbox is read and written only inside its root" >&2
      exit 1 ;;
    esac
  done
  cd -- "$mf_here" 2>/dev/null || cd /
}
# The host lock's entries: each apply creates its own,
# $R/var/run/mailfleet.lock.<pid>.<random>, and keeps it open on fd 9 while it
# runs; the kernel closes it when the process ends, however it ends. An entry
# is live while process <pid> has that very file open (/proc/<pid>/fd): a dead
# holder, an unreaped zombie and a reused pid have not. Where there is no such
# /proc, kill -0 decides (a zombie or a reused pid then looks alive).
MF_LOCK_DIR="$R/var/run"
MF_LIVE=
mf_lock_alive() { # PID ENTRY
  if [ -z "$MF_LIVE" ]; then
    MF_LIVE=kill
    exec 8</dev/null
    [ /proc/$$/fd/8 -ef /dev/null ] 2>/dev/null && MF_LIVE=fd
    exec 8<&-
  fi
  if [ "$MF_LIVE" = fd ]; then
    set +f
    for mf_fd in /proc/"$1"/fd/*; do
      if [ "$mf_fd" -ef "$2" ]; then set -f; return 0; fi
    done
    set -f
    return 1
  fi
  kill -0 "$1" 2>/dev/null || ps -p "$1" >/dev/null 2>&1
}
# "~dead <name>" for each entry whose apply is gone (~: not a fact a plan rests on)
mf_lock_leftovers() {
  [ -d "$MF_LOCK_DIR/mailfleet.lock" ] && echo "~dead mailfleet.lock"
  set +f
  for mf_e in "$MF_LOCK_DIR"/mailfleet.lock.*.*; do
    [ -f "$mf_e" ] || continue
    mf_id=\${mf_e##*/mailfleet.lock.}; mf_pid=\${mf_id%%.*}
    case $mf_pid in '' | *[!0-9]*) continue ;; esac
    mf_lock_alive "$mf_pid" "$mf_e" || echo "~dead \${mf_e##*/}"
  done
  set -f
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
  elif [ -f "$1" ]; then od -An -v -tx1 -N "$2" "$1"; mf_whole "$1" "$2" ""; fi
}
# mf_whole FILE SHOWN PREFIX: "sha256 <digest>" of FILE when it is larger than
# the SHOWN bytes the probe printed (mf_line: its ls line, from mf_stat), so
# that a change past them is seen too
mf_whole() {
  mf_wp=$1 mf_wn=$2 mf_wx=$3
  set -- $mf_line
  if [ "$mf_wn" -gt 0 ] && [ "\${5:-0}" -gt "$mf_wn" ]; then printf '%ssha256 %s\n' "$mf_wx" "$(mf_sha256 < "$mf_wp")"; fi
  return 0
}
# mf_sha256: SHA-256 (hex) of stdin, with the tool this host has
mf_sha256() {
${SHA256}
  else cat >/dev/null; return 1
  fi | sed 's/[^0-9a-f].*//'
}
# "leftover" when an interrupted write left its temporary file beside $1 (see mf_write)
mf_leftover() {
  set +f
  for mf_l in "\${1%/*}"/.mailfleet.[0-9]*."\${1##*/}"; do
    if [ -f "$mf_l" ] || [ -L "$mf_l" ]; then set -f; echo leftover; return 0; fi
  done
  set -f
}
# mf_probe_path for a file holding a secret: its content on ~ lines, which a
# saved plan's hash leaves out (a hash of a password can be tested against
# guesses), and instead "id <inode> <size> <change time>", which any write,
# rename or chmod changes: to the nanosecond with stat(1) (GNU, busybox) or
# ls -E (illumos), to the second with BSD stat, else to the minute (ls -l)
mf_probe_secret() {
  mf_stat "$1"
  if [ -L "$1" ]; then printf 'T '; mf_link_target "$1"
  elif [ -f "$1" ]; then
    mf_sp=$1; mf_sn=$2
${FILE_ID}
    echo "id $mf_sid"
    od -An -v -tx1 -N "$mf_sn" "$mf_sp" | sed 's/^/~/'
    mf_whole "$mf_sp" "$mf_sn" "~"
  fi
}
# mf_probe_key PATH: a generated key's facts, none read from its private half:
# its stat line without the size, "leftover" when an interrupted generation
# left its directory beside it, and the public half mf_keypub (the resource's
# command) prints, on "pub " lines; or "pubfail <why>" when it failed, printed
# nothing, or printed what looks like the private half (PRIVATE, or a line of
# the key file), which is then not printed. Its stdin is /dev/null: the
# script itself is the shell's stdin.
mf_probe_key() {
  mf_kl=$(mf_stat "$1")
  set -- "$1" $mf_kl
  if [ "$2" = missing ]; then echo missing; else echo "$2 $3 $4 $5 0"; fi
  set +f
  for mf_l in "\${1%/*}"/.mailfleet.[0-9]*."\${1##*/}".keygen; do
    if [ -d "$mf_l" ]; then echo leftover; break; fi
  done
  set -f
  [ "$2" = f ] || return 0
  mf_kp=$(mf_keypub "$1" </dev/null 2>/dev/null) || { echo "pubfail exit $?"; return 0; }
  case $mf_kp in
    '') echo "pubfail empty"; return 0 ;;
    *PRIVATE*) echo "pubfail private"; return 0 ;;
  esac
  mf_ifs=$IFS; IFS='
'
  for mf_l in $mf_kp; do
    case $mf_l in -----*) continue ;; esac
    if [ "\${#mf_l}" -ge 16 ] && grep -F -x -e "$mf_l" "$1" >/dev/null 2>&1; then
      IFS=$mf_ifs; echo "pubfail private"; return 0
    fi
  done
  IFS=$mf_ifs
  printf '%s\n' "$mf_kp" | sed 's/^/pub /'
}
`;

const applyHelpers = `MF_STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mf_fail() { echo "mailfleet: $*" >&2; exit 1; }
# mf_write PATH MODE OWNER GROUP CONTENT: temp file beside the target, mode and
# owner set, the old file kept as PATH.mailfleet-bak.<stamp>, then rename.
mf_write() {
  mf_p="$R$1"; mf_d=$(dirname "$mf_p"); mf_t="$mf_d/.mailfleet.$$.$(basename "$mf_p")"
  [ -d "$mf_d" ] || mkdir -p "$mf_d" || return 1
  mf_clean_temps "$1"
  # never a rename onto a directory, or a link to one (mv would put the file inside it), a FIFO or a device
  if [ -e "$mf_p" ] && [ ! -f "$mf_p" ]; then echo "mailfleet: $1 is not a regular file" >&2; return 1; fi
  (umask 077; printf '%b' "$5" > "$mf_t") || { rm -f "$mf_t"; return 1; }
  chmod "$2" "$mf_t" || { rm -f "$mf_t"; return 1; }
  if [ -n "$3" ]; then chown "$3:$4" "$mf_t" || { rm -f "$mf_t"; return 1; }; fi
  if [ -f "$mf_p" ] && [ ! -L "$mf_p" ]; then
    ln -f "$mf_p" "$mf_p.mailfleet-bak.$MF_STAMP" 2>/dev/null || cp -p "$mf_p" "$mf_p.mailfleet-bak.$MF_STAMP" || { rm -f "$mf_t"; return 1; }
  fi
  mv -f "$mf_t" "$mf_p"
}
# mf_restore PATH...: puts back what this apply replaced or removed (PATH.mailfleet-bak.<stamp>),
# keeping the file it had written as PATH.mailfleet-refused.<stamp>
mf_restore() {
  for mf_rp; do
    mf_rf="$R$mf_rp"
    [ -e "$mf_rf.mailfleet-bak.$MF_STAMP" ] || continue
    if [ -f "$mf_rf" ]; then mv -f "$mf_rf" "$mf_rf.mailfleet-refused.$MF_STAMP"; fi
    mv -f "$mf_rf.mailfleet-bak.$MF_STAMP" "$mf_rf"
  done
}
# mf_unmake PATH...: moves away files this apply created (there was nothing before them)
mf_unmake() {
  for mf_rp; do [ -f "$R$mf_rp" ] && mv -f "$R$mf_rp" "$R$mf_rp.mailfleet-refused.$MF_STAMP"; done
  return 0
}
# mf_clean_temps PATH: removes the temporary files interrupted writes of PATH left (the lock is held: no write is running)
mf_clean_temps() {
  mf_cd=$(dirname "$R$1"); mf_cb=$(basename "$1")
  set +f
  rm -f "$mf_cd"/.mailfleet.[0-9]*."$mf_cb"
  set -f
}
mf_own() { # PATH MODE OWNER GROUP
  chmod "$2" "$R$1" || return 1
  if [ -n "$3" ]; then chown "$3:$4" "$R$1" || return 1; fi
}
# mf_genkey PATH MODE OWNER GROUP: a new private key at host path PATH, never
# over an existing one: mf_keygen (the resource's command) writes it to "$1"
# in a directory beside PATH that only its owner can enter, and runs there
# (what else it writes goes with that directory), under umask 077; mode and
# owner are set, then it is linked into place (ln fails rather than
# replace). The command's output is discarded; when it fails, only the lines
# of its error output that cannot be key material are shown.
mf_genkey() {
  mf_p="$R$1"; mf_d=$(dirname "$mf_p"); mf_b=$(basename "$mf_p")
  [ -d "$mf_d" ] || mkdir -p "$mf_d" || return 1
  mf_genkey_clean "$1"
  if [ -e "$mf_p" ] || [ -L "$mf_p" ]; then echo "mailfleet: $1 exists; a generated key is never replaced" >&2; return 1; fi
  mf_kd="$mf_d/.mailfleet.$$.$mf_b.keygen"
  (umask 077; mkdir "$mf_kd") || return 1
  if ! (umask 077; cd "$mf_kd" && mf_keygen "$mf_kd/key") </dev/null >/dev/null 2>"$mf_kd/err"; then
    sed -e '/PRIVATE/d' -e '\\|[A-Za-z0-9+/=]\\{24,\\}|d' "$mf_kd/err" | head -n 5 | cut -c 1-200 >&2
    rm -rf "$mf_kd"; return 1
  fi
  if [ -L "$mf_kd/key" ] || [ ! -f "$mf_kd/key" ] || [ ! -s "$mf_kd/key" ]; then
    echo "mailfleet: the command wrote no key" >&2; rm -rf "$mf_kd"; return 1
  fi
  chmod "$2" "$mf_kd/key" && { [ -z "$3" ] || chown "$3:$4" "$mf_kd/key"; } && ln "$mf_kd/key" "$mf_p" || { rm -rf "$mf_kd"; return 1; }
  rm -rf "$mf_kd"
}
# mf_genkey_clean PATH: removes what interrupted generations of PATH left (the lock is held: none is running)
mf_genkey_clean() {
  mf_cd=$(dirname "$R$1"); mf_cb=$(basename "$1")
  set +f
  rm -rf "$mf_cd"/.mailfleet.[0-9]*."$mf_cb".keygen
  set -f
}
# The host lock: see mf_lock_alive for the entries. An apply holds the lock
# when it has created its entry and then finds no other live entry: of two
# applies the one that lists the directory later sees the other's entry, so
# at most one holds it. Entries of dead holders are removed by whoever finds
# them (a name is never used twice). Two applies starting together: the one
# with the smaller random number waits for the other to give way.
MF_LOCK_ME=
mf_lock_busy() { # PID
  rm -f "$MF_LOCK_ME"
  exec 9>&-
  echo "mailfleet: another apply is running on this host (pid $1, lock $MF_LOCK_DIR/mailfleet.lock.$1.*); try again when it has finished" >&2
  exit 75
}
mf_lock() {
  [ -d "$MF_LOCK_DIR" ] || mkdir -p "$MF_LOCK_DIR" || mf_fail "cannot create $MF_LOCK_DIR for the lock"
  # the lock directory of mailfleet 0.1.0 (mkdir and a pid file) is only ever left behind by a killed apply
  [ -d "$MF_LOCK_DIR/mailfleet.lock" ] && rm -rf "$MF_LOCK_DIR/mailfleet.lock"
  mf_tok=$(od -An -N3 -tu4 /dev/urandom 2>/dev/null | tr -dc 0-9)
  [ -n "$mf_tok" ] || mf_tok=$(date +%H%M%S)
  MF_LOCK_ME="$MF_LOCK_DIR/mailfleet.lock.$$.$mf_tok"
  trap 'rm -f "$MF_LOCK_ME"' EXIT
  trap 'exit 130' INT TERM HUP
  command exec 9>>"$MF_LOCK_ME" || mf_fail "cannot create the lock $MF_LOCK_ME"
  # this shell holds its own entry: if /proc does not show that, it cannot judge the others by it either
  mf_lock_alive $$ "$MF_LOCK_ME" || MF_LIVE=kill
  mf_tries=0
  while :; do
    mf_wait=
    set +f
    for mf_e in "$MF_LOCK_DIR"/mailfleet.lock.*.*; do
      [ "$mf_e" = "$MF_LOCK_ME" ] && continue
      mf_id=\${mf_e##*/mailfleet.lock.}; mf_pid=\${mf_id%%.*}; mf_etok=\${mf_id#*.}
      case $mf_pid in '' | *[!0-9]*) continue ;; esac
      case $mf_etok in '' | *[!0-9]*) continue ;; esac
      [ -f "$mf_e" ] || continue
      if mf_lock_alive "$mf_pid" "$mf_e"; then
        # a holder, or an apply starting too that goes first
        if [ -s "$mf_e" ] || [ "$mf_etok" -lt "$mf_tok" ] || { [ "$mf_etok" -eq "$mf_tok" ] && [ "$mf_pid" -lt $$ ]; }; then mf_lock_busy "$mf_pid"; fi
        mf_wait=$mf_pid
      else
        rm -f "$mf_e"
      fi
    done
    set -f
    if [ -z "$mf_wait" ]; then
      echo "held by pid $$ since $MF_STAMP" >&9
      return 0
    fi
    mf_tries=$((mf_tries + 1))
    [ "$mf_tries" -lt 100 ] || mf_lock_busy "$mf_wait"
    sleep 0.05 2>/dev/null || sleep 1
  done
}
# mf_check_plan SHA256: the probe finds this host as it was planned (its
# facts, the lines between the probe's markers without the ~ lines, hash to
# SHA256), or the apply stops here, before anything is written.
mf_check_plan() {
  mf_now=$(mf_probe | sed -n '/^@@mailfleet-probe$/,/^@@mailfleet-end$/p' | sed '/^~/d' | mf_sha256)
  case $mf_now in
    ????????????????????????????????????????????????????????????????) ;;
    *) mf_fail "cannot check that this host is as planned: no working sha256sum, digest, sha256, shasum or openssl; nothing was changed" ;;
  esac
  if [ "$mf_now" != "$1" ]; then
    echo "@@mailfleet-stale"
    echo "mailfleet: stale plan: this host changed since the plan; nothing was changed" >&2
    exit 76
  fi
}
`;

/** How a file's identity (inode, size, change time) is read, by tool: each sets mf_sid from the path in mf_sp. */
export const FILE_ID_TOOLS = {
  /** GNU coreutils and busybox: to the nanosecond. */
  "stat -c": `mf_sid=$(stat -c '%i %s %z' "$mf_sp" 2>/dev/null)`,
  /** illumos: ls -E, to the nanosecond. */
  "ls -E": `mf_sid=$(ls -Ecdi "$mf_sp" 2>/dev/null) && { set -- $mf_sid; mf_sid="$1 $6 $7 $8 $9"; }`,
  /** The BSDs: to the second. */
  "stat -f": `mf_sid=$(stat -f '%i %z %c' "$mf_sp" 2>/dev/null)`,
} as const;

/** The SHA-256 tools, by name: each reads stdin and prints the hex digest first. */
export const SHA256_TOOLS = {
  sha256sum: "sha256sum",
  digest: "digest -a sha256",
  sha256: "sha256 -q",
  shasum: "shasum -a 256",
  openssl: "openssl dgst -sha256 -r",
} as const;

/**
 * What an operating system answers for the scripts (its platform says, src/platforms):
 * the PATH in front, and which tools it has, in the order to try them. The
 * others follow: a sandbox runs on the machine running mailfleet, whatever
 * the platform of the host it stands for.
 */
export interface ScriptOs {
  basePath: readonly string[];
  fileId: readonly (keyof typeof FILE_ID_TOOLS)[];
  sha256: readonly (keyof typeof SHA256_TOOLS)[];
}

const inOrder = <K extends string>(first: readonly K[], all: readonly K[]): K[] => [...first, ...all.filter((k) => !first.includes(k))];

function fileIdChain(os: ScriptOs): string {
  const tools = inOrder(os.fileId, Object.keys(FILE_ID_TOOLS) as (keyof typeof FILE_ID_TOOLS)[]);
  return `    ${tools.map((t, i) => `${i ? "elif" : "if"} ${FILE_ID_TOOLS[t]}; then :`).join("\n    ")}
    else set -- $(ls -ldci "$mf_sp"); mf_sid="$1 $6 $7 $8 $9"
    fi`;
}

function sha256Chain(os: ScriptOs): string {
  const tools = inOrder(os.sha256, Object.keys(SHA256_TOOLS) as (keyof typeof SHA256_TOOLS)[]);
  return tools.map((t, i) => `  ${i ? "elif" : "if"} command -v ${t} >/dev/null 2>&1; then ${SHA256_TOOLS[t]}`).join("\n");
}

/** The start of every script: C locale, the platform's PATH, no globbing, R = the root prefix, and the probe helpers. */
export function prelude(root: string, os: ScriptOs): Sh {
  return sh`LC_ALL=C; export LC_ALL
PATH=${code(os.basePath.join(":"))}:$PATH; export PATH
set -f
R=${root}
${code(probeHelpers(fileIdChain(os), sha256Chain(os)))}`;
}

/** Helpers only the apply script needs; with a root prefix, it is created first. */
export function applyPrelude(root: string, os: ScriptOs): Sh {
  const makeRoot = root ? code(`[ -d "$R" ] || mkdir -p "$R" || mf_fail "cannot create the root prefix $R"`) : code("");
  return sh`${code(applyHelpers)}
${makeRoot}`;
}
