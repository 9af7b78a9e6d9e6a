// What differs between operating systems, and nothing about mail: the package
// manager, the service manager, how versions are spelt, the base PATH. What a
// role needs on a platform (package names, paths, users) lives with the role.
import type { Sh } from "../shell/builder.ts";
import type { ScriptOs } from "../shell/prelude.ts";
import type { PrivilegeTool } from "../inventory/privilege.ts";

/** An OS: what the scripts ask it (ScriptOs: its PATH, its file and hash tools), and how it manages packages, services and users. */
export interface Platform extends ScriptOs {
  /** The platform's name in the inventory (`platform: smartos`). */
  readonly name: string;
  /** How a login that is not root runs scripts as root. */
  become: PrivilegeTool;
  /** Prints `installed <version>` or `absent`. */
  packageProbe(pkg: string): Sh;
  packageInstall(pkg: string): Sh;
  packageRemove(pkg: string): Sh;
  /** Preseeds debconf answers (debconf-set-selections lines) before a package install, where the platform has debconf. */
  packagePreseed?(selections: string): Sh;
  /** Installing one MTA package removes the other (Debian: they all provide mail-transport-agent). */
  mtaPackagesConflict: boolean;
  /** Prints `running` or `stopped`. */
  serviceProbe(svc: string): Sh;
  serviceStart(svc: string): Sh;
  serviceStop(svc: string): Sh;
  serviceRestart(svc: string): Sh;
  serviceReload(svc: string): Sh;
  /** Creates a group with this id. */
  groupAdd(name: string, gid: number): Sh;
  /** Creates a system user without a login shell, its primary group and home as given (the home is not created). */
  userAdd(name: string, uid: number, group: string, home: string): Sh;
  /** Strips packaging decoration from a version (epochs, revisions, nbN). */
  upstreamVersion(v: string): string;
  /** ZFS datasets (SmartOS): prints `present <mountpoint>` or `absent`. */
  zfsProbe?(dataset: string): Sh;
  zfsCreate?(dataset: string, mountpoint: string): Sh;
}
