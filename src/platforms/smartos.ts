// SmartOS zones: pkgsrc under /opt/local, SMF services, ZFS.
import { sh } from "../shell/builder.ts";
import type { Platform } from "./types.ts";

export const smartos = {
  name: "smartos",
  basePath: ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/opt/local/sbin", "/opt/local/bin"],
  fileId: ["ls -E"],
  sha256: ["digest"],
  become: "pfexec",
  packageProbe: (pkg) =>
    sh`mf_v=$(pkg_info -E ${pkg} 2>/dev/null | head -n 1); mf_p=${pkg}-; if [ -n "$mf_v" ]; then mf_v=\${mf_v#"$mf_p"}; echo "installed $mf_v"; else echo absent; fi`,
  packageInstall: (pkg) => sh`pkgin -y install ${pkg}`,
  packageRemove: (pkg) => sh`pkgin -y remove ${pkg}`,
  mtaPackagesConflict: false,
  serviceProbe: (svc) => sh`case "$(svcs -H -o state ${svc} 2>/dev/null)" in online) echo running ;; *) echo stopped ;; esac`,
  serviceStart: (svc) =>
    sh`if [ "$(svcs -H -o state ${svc} 2>/dev/null)" = maintenance ]; then svcadm clear ${svc}; fi; svcadm enable -s ${svc}`,
  serviceStop: (svc) => sh`svcadm disable -s ${svc}`,
  serviceRestart: (svc) => sh`svcadm restart ${svc}`,
  serviceReload: (svc) => sh`svcadm refresh ${svc}`,
  groupAdd: (name, gid) => sh`groupadd -g ${gid} ${name}`,
  userAdd: (name, uid, group, home) => sh`useradd -u ${uid} -g ${group} -d ${home} -s /usr/bin/false ${name}`,
  upstreamVersion: (v) => v.replace(/nb\d+$/, ""),
  zfsProbe: (dataset) => sh`if mf_m=$(zfs get -H -o value mountpoint ${dataset} 2>/dev/null); then echo "present $mf_m"; else echo absent; fi`,
  zfsCreate: (dataset, mountpoint) => sh`zfs create -o mountpoint=${mountpoint} ${dataset}`,
} as const satisfies Platform;
