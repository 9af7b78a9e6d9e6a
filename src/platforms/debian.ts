// Debian (12 and later): dpkg/apt, systemd when it runs, else the init scripts.
import { sh, type Sh } from "../shell/builder.ts";
import type { Platform } from "./types.ts";

const systemd = sh`[ -d /run/systemd/system ]`;

const initStatus = (svc: string) => sh`service ${svc} status >/dev/null 2>&1`;

/**
 * `service NAME VERB` without systemd, then CHECK. An init script's daemon
 * inherits the script's stdout and stderr (Debian's nullmailer script even
 * keeps a copy of them on a spare descriptor), so they must not be the
 * transport's pipes or the apply waits for that daemon forever: output goes
 * to a file, shown on failure.
 */
const initScript = (svc: string, verb: string, check: Sh) =>
  sh`mf_svc_out=$(mktemp) && { service ${svc} ${verb} </dev/null >"$mf_svc_out" 2>&1 && { ${check}; }; mf_svc_rc=$?; [ $mf_svc_rc -eq 0 ] || cat "$mf_svc_out" >&2; rm -f "$mf_svc_out"; [ $mf_svc_rc -eq 0 ]; }`;

// Init scripts exit 0 whatever happened (nullmailer's start "fails" on a daemon
// still exiting and still exits 0), and their stop does not wait for the daemon
// to exit; so stop waits until status says stopped (30 s at most), start checks
// that status says running, and restart is that stop, then that start.
const initStop = (svc: string) =>
  initScript(
    svc,
    "stop",
    sh`mf_n=0; while ${initStatus(svc)} && [ $mf_n -lt 150 ]; do sleep 0.2; mf_n=$((mf_n + 1)); done; ! ${initStatus(svc)} || { echo ${`mailfleet: ${svc} still runs 30 s after stop`} >>"$mf_svc_out"; false; }`,
  );
const initStart = (svc: string) =>
  initScript(svc, "start", sh`${initStatus(svc)} || { echo ${`mailfleet: ${svc} is not running after start`} >>"$mf_svc_out"; false; }`);

export const debian = {
  name: "debian",
  basePath: ["/usr/sbin", "/usr/bin", "/sbin", "/bin"],
  fileId: ["stat -c"],
  sha256: ["sha256sum"],
  become: "sudo",
  packageProbe: (pkg) =>
    sh`mf_v=$(dpkg-query -W -f='\${Status} \${Version}' ${pkg} 2>/dev/null); case "$mf_v" in "install ok installed "*) echo "installed \${mf_v##* }" ;; *) echo absent ;; esac`,
  packageInstall: (pkg) =>
    sh`DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${pkg} </dev/null`,
  packageRemove: (pkg) => sh`DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${pkg} </dev/null`,
  packagePreseed: (selections) => sh`printf '%s\\n' ${selections} | debconf-set-selections`,
  mtaPackagesConflict: true,
  serviceProbe: (svc) =>
    sh`if ${systemd}; then systemctl is-active --quiet ${svc} && echo running || echo stopped; else service ${svc} status >/dev/null 2>&1 && echo running || echo stopped; fi`,
  serviceStart: (svc) => sh`if ${systemd}; then systemctl enable --now ${svc}; else ${initStart(svc)}; fi`,
  serviceStop: (svc) => sh`if ${systemd}; then systemctl stop ${svc}; else ${initStop(svc)}; fi`,
  serviceRestart: (svc) => sh`if ${systemd}; then systemctl restart ${svc}; else ${initStop(svc)} && ${initStart(svc)}; fi`,
  serviceReload: (svc) => sh`if ${systemd}; then systemctl reload ${svc}; else ${initScript(svc, "reload", sh`true`)}; fi`,
  groupAdd: (name, gid) => sh`groupadd --system --gid ${gid} ${name}`,
  userAdd: (name, uid, group, home) => sh`useradd --system --uid ${uid} --gid ${group} --home-dir ${home} --no-create-home --shell /usr/sbin/nologin ${name}`,
  upstreamVersion: (v) => v.replace(/^\d+:/, "").replace(/-[^-]*$/, ""),
} as const satisfies Platform;
