// SmartOS zones: pkgsrc under /opt/local, SMF services, mailwrapper, ZFS.
import { shq } from "../engine/shell.ts";
import type { Platform } from "./types.ts";

const LIBEXEC = "/opt/local/libexec/nullmailer";

export const smartos: Platform = {
  name: "smartos",
  packageProbe: (pkg) =>
    `mf_v=$(pkg_info -E ${shq(pkg)} 2>/dev/null | head -n 1); if [ -n "$mf_v" ]; then echo "installed \${mf_v#${pkg}-}"; else echo absent; fi`,
  packageInstall: (pkg) => `pkgin -y install ${shq(pkg)}`,
  packageRemove: (pkg) => `pkgin -y remove ${shq(pkg)}`,
  serviceProbe: (svc) =>
    `case "$(svcs -H -o state ${shq(svc)} 2>/dev/null)" in online) echo running ;; *) echo stopped ;; esac`,
  serviceStart: (svc) =>
    `if [ "$(svcs -H -o state ${shq(svc)} 2>/dev/null)" = maintenance ]; then svcadm clear ${shq(svc)}; fi; svcadm enable -s ${shq(svc)}`,
  serviceStop: (svc) => `svcadm disable -s ${shq(svc)}`,
  serviceRestart: (svc) => `svcadm restart ${shq(svc)}`,
  serviceReload: (svc) => `svcadm refresh ${shq(svc)}`,
  upstreamVersion: (v) => v.replace(/nb\d+$/, ""),
  nullmailer: {
    package: "nullmailer",
    service: "svc:/pkgsrc/nullmailer:default",
    confDir: "/opt/local/etc/nullmailer",
    spool: "/var/spool/nullmailer",
    user: "nullmail",
    group: "nullmail",
    meFile: "/opt/local/etc/nullmailer/me",
    inject: `${LIBEXEC}/nullmailer-inject`,
    sendmail: `${LIBEXEC}/sendmail`,
    mailq: `${LIBEXEC}/mailq`,
    mailerConf: "/etc/mailer.conf",
    spoolMode: 0o700,
    spoolGroup: "nullmail",
    triggerMode: 0o600,
  },
  mtaPackagesConflict: false,
  postfix: {
    package: "postfix",
    service: "svc:/pkgsrc/postfix:default",
    configDir: "/opt/local/etc/postfix",
    postfix: "/opt/local/sbin/postfix",
    postmap: "/opt/local/sbin/postmap",
    postconf: "/opt/local/sbin/postconf",
    postqueue: "/opt/local/sbin/postqueue",
    postcat: "/opt/local/sbin/postcat",
    postsuper: "/opt/local/sbin/postsuper",
    sendmail: "/opt/local/sbin/sendmail",
    mapType: "hash",
  },
  zfsProbe: (dataset) =>
    `if mf_m=$(zfs get -H -o value mountpoint ${shq(dataset)} 2>/dev/null); then echo "present $mf_m"; else echo absent; fi`,
  zfsCreate: (dataset, mountpoint) => `zfs create -o mountpoint=${shq(mountpoint)} ${shq(dataset)}`,
};
