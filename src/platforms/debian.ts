// Debian (12 and later): dpkg/apt, systemd when it runs, else the init scripts.
import { shq } from "../engine/shell.ts";
import type { Platform } from "./types.ts";

const systemd = `[ -d /run/systemd/system ]`;

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
    `if ${systemd}; then systemctl enable --now ${shq(svc)}; else service ${shq(svc)} start </dev/null >/dev/null; fi`,
  serviceStop: (svc) =>
    `if ${systemd}; then systemctl stop ${shq(svc)}; else service ${shq(svc)} stop </dev/null >/dev/null; fi`,
  serviceRestart: (svc) =>
    `if ${systemd}; then systemctl restart ${shq(svc)}; else service ${shq(svc)} restart </dev/null >/dev/null; fi`,
  serviceReload: (svc) =>
    `if ${systemd}; then systemctl reload ${shq(svc)}; else service ${shq(svc)} reload </dev/null >/dev/null; fi`,
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
