// Debian (12 and later): dpkg/apt, systemd when it runs, else the init scripts.
import { shq } from "../engine/shell.ts";
import type { Platform } from "./types.ts";

const systemd = `[ -d /run/systemd/system ]`;

const initStatus = (svc: string) => `service ${shq(svc)} status >/dev/null 2>&1`;

/**
 * `service NAME VERB` without systemd, then CHECK. An init script's daemon
 * inherits the script's stdout and stderr (Debian's nullmailer script even
 * keeps a copy of them on a spare descriptor), so they must not be the
 * transport's pipes or the apply waits for that daemon forever: output goes
 * to a file, shown on failure.
 */
const initScript = (svc: string, verb: string, check: string) =>
  `mf_svc_out=$(mktemp) && { service ${shq(svc)} ${verb} </dev/null >"$mf_svc_out" 2>&1 && { ${check}; }; mf_svc_rc=$?; [ $mf_svc_rc -eq 0 ] || cat "$mf_svc_out" >&2; rm -f "$mf_svc_out"; [ $mf_svc_rc -eq 0 ]; }`;

// Init scripts exit 0 whatever happened (nullmailer's start "fails" on a daemon
// still exiting and still exits 0), and their stop does not wait for the daemon
// to exit; so stop waits until status says stopped (30 s at most), start checks
// that status says running, and restart is that stop, then that start.
const initStop = (svc: string) =>
  initScript(
    svc,
    "stop",
    `mf_n=0; while ${initStatus(svc)} && [ $mf_n -lt 150 ]; do sleep 0.2; mf_n=$((mf_n + 1)); done; ! ${initStatus(svc)} || { echo ${shq(`mailfleet: ${svc} still runs 30 s after stop`)} >>"$mf_svc_out"; false; }`,
  );
const initStart = (svc: string) =>
  initScript(svc, "start", `${initStatus(svc)} || { echo ${shq(`mailfleet: ${svc} is not running after start`)} >>"$mf_svc_out"; false; }`);

export const debian: Platform = {
  name: "debian",
  packageProbe: (pkg) =>
    `mf_v=$(dpkg-query -W -f='\${Status} \${Version}' ${shq(pkg)} 2>/dev/null); case "$mf_v" in "install ok installed "*) echo "installed \${mf_v##* }" ;; *) echo absent ;; esac`,
  packageInstall: (pkg) =>
    `DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${shq(pkg)} </dev/null`,
  packageRemove: (pkg) => `DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${shq(pkg)} </dev/null`,
  serviceProbe: (svc) =>
    `if ${systemd}; then systemctl is-active --quiet ${shq(svc)} && echo running || echo stopped; else service ${shq(svc)} status >/dev/null 2>&1 && echo running || echo stopped; fi`,
  serviceStart: (svc) =>
    `if ${systemd}; then systemctl enable --now ${shq(svc)}; else ${initStart(svc)}; fi`,
  serviceStop: (svc) =>
    `if ${systemd}; then systemctl stop ${shq(svc)}; else ${initStop(svc)}; fi`,
  serviceRestart: (svc) =>
    `if ${systemd}; then systemctl restart ${shq(svc)}; else ${initStop(svc)} && ${initStart(svc)}; fi`,
  serviceReload: (svc) =>
    `if ${systemd}; then systemctl reload ${shq(svc)}; else ${initScript(svc, "reload", "true")}; fi`,
  upstreamVersion: (v) => v.replace(/^\d+:/, "").replace(/-[^-]*$/, ""),
  nullmailer: {
    package: "nullmailer",
    service: "nullmailer",
    confDir: "/etc/nullmailer",
    spool: "/var/spool/nullmailer",
    user: "mail",
    group: "mail",
    // Debian's nullmailer ignores `me` and reads /etc/mailname.
    meFile: "/etc/mailname",
    inject: "/usr/bin/nullmailer-inject",
    sendmail: "/usr/sbin/sendmail",
    mailq: "/usr/bin/mailq",
    spoolMode: 0o750,
    spoolGroup: "root",
    triggerMode: 0o622,
  },
  packagePreseed: (selections) => `printf '%s\\n' ${shq(selections)} | debconf-set-selections`,
  mtaPackagesConflict: true,
  postfix: {
    package: "postfix",
    service: "postfix",
    configDir: "/etc/postfix",
    postfix: "/usr/sbin/postfix",
    postmap: "/usr/sbin/postmap",
    postconf: "/usr/sbin/postconf",
    postqueue: "/usr/sbin/postqueue",
    postcat: "/usr/sbin/postcat",
    postsuper: "/usr/sbin/postsuper",
    sendmail: "/usr/sbin/sendmail",
    mailname: "/etc/mailname",
    mapType: "hash",
  },
};
