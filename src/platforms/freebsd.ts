// FreeBSD hosts and jails: pkg(8) under /usr/local, rc.d services enabled with
// sysrc and run with service(8), mailwrapper (/etc/mail/mailer.conf).
import { sh } from "../shell/builder.ts";
import type { Platform } from "./types.ts";

/** rc.conf knows a service by its rcvar, <name>_enable; rc.d names are letters, digits and '_'. */
const rcvar = (svc: string) => `${svc.replace(/[^A-Za-z0-9_]/g, "_")}_enable`;

export const freebsd = {
  name: "freebsd",
  basePath: ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"],
  fileId: ["stat -f"],
  sha256: ["sha256"],
  become: "sudo",
  packageProbe: (pkg) => sh`if mf_v=$(pkg query '%v' ${pkg} 2>/dev/null) && [ -n "$mf_v" ]; then echo "installed $mf_v"; else echo absent; fi`,
  packageInstall: (pkg) => sh`env ASSUME_ALWAYS_YES=yes pkg install -y ${pkg} </dev/null`,
  packageRemove: (pkg) => sh`env ASSUME_ALWAYS_YES=yes pkg delete -y ${pkg} </dev/null`,
  // pkg never removes one MTA for another; each is chosen in mailer.conf
  mtaPackagesConflict: false,
  serviceProbe: (svc) => sh`if service ${svc} status >/dev/null 2>&1; then echo running; else echo stopped; fi`,
  serviceStart: (svc) => sh`sysrc ${`${rcvar(svc)}=YES`} >/dev/null && service ${svc} start </dev/null >/dev/null`,
  serviceStop: (svc) => sh`service ${svc} stop </dev/null >/dev/null`,
  serviceRestart: (svc) => sh`service ${svc} restart </dev/null >/dev/null`,
  serviceReload: (svc) => sh`service ${svc} reload </dev/null >/dev/null`,
  groupAdd: (name, gid) => sh`pw groupadd ${name} -g ${gid}`,
  userAdd: (name, uid, group, home) => sh`pw useradd ${name} -u ${uid} -g ${group} -d ${home} -s /usr/sbin/nologin`,
  // ports revisions and epochs: 3.9.1_2,1 -> 3.9.1
  upstreamVersion: (v) => v.replace(/,\d+$/, "").replace(/_\d+$/, ""),
} as const satisfies Platform;
