// Directory settings (a mail store, a persistent spool) name a directory a
// role creates, chowns and moves mail into. Such a directory must be one of
// its own: never a system directory (the apply would chown /etc to vmail),
// never one another role manages (Postfix's queue directory), never another
// such setting. Checked at validate, at the setting's line, before anything
// is probed.
import type { RuleProblem } from "./catalog.ts";
import { pathsOverlap } from "./fields.ts";

/** Directories that are the system's as they stand: nothing of a role's may be them (below them is fine). */
export const SYSTEM_DIRECTORIES = [
  "/", "/home", "/opt", "/opt/local", "/srv", "/var", "/var/spool", "/var/lib", "/var/db", "/var/mail", "/var/log", "/var/cache", "/var/empty",
  "/mnt", "/media", "/zones", "/data", "/tmp", "/var/tmp",
] as const;

/** Trees that are the system's with everything below them (programs, configuration, kernel views, temporary files). */
export const SYSTEM_TREES = [
  "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc", "/sys", "/run", "/var/run",
  "/root", "/opt/local/etc", "/opt/local/bin", "/opt/local/sbin", "/opt/local/lib", "/opt/local/libexec", "/opt/local/share", "/opt/local/include",
] as const;

/** A directory a role manages on a platform, e.g. Postfix's queue directory. */
export interface ManagedDirectory {
  path: string;
  /** What it is, for messages: "Postfix's queue directory". */
  what: string;
  /** The role that manages it (set by the engine). */
  role?: string;
}

/** A setting naming a directory of the role's own. */
export interface DirectorySetting {
  /** Where it is set, under the host's settings, e.g. ["mail", "base"]. */
  field: string[];
  path: string;
  /** What it is, for messages: "the mail store". */
  what: string;
  /** A sound value, for messages. */
  example: string;
}

const relation = (a: string, b: string) => (a === b ? "is" : a.startsWith(`${b}/`) || b === "/" ? "lies inside" : "contains");

/**
 * The problems of `settings` on one host: each that is or overlaps a system
 * directory, a managed directory (`managed`), or another of `others` (the
 * directory settings of the host's other roles).
 */
export function directoryProblems(settings: readonly DirectorySetting[], managed: readonly ManagedDirectory[], others: readonly DirectorySetting[] = []): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const s of settings) {
    const own = `${s.what} must be a directory of its own (e.g. ${s.example})`;
    const exact = [...SYSTEM_DIRECTORIES, ...SYSTEM_TREES].find((d) => d === s.path);
    if (exact !== undefined) {
      out.push({ field: s.field, message: `${s.path} is the system directory ${exact}; ${own}` });
      continue;
    }
    const clash = managed.find((m) => pathsOverlap(s.path, m.path));
    if (clash) {
      out.push({ field: s.field, message: `${s.path} ${relation(s.path, clash.path)} ${clash.what} ${clash.path}${clash.role ? ` (role ${clash.role})` : ""}; ${own}` });
      continue;
    }
    const tree = SYSTEM_TREES.find((t) => pathsOverlap(s.path, t));
    if (tree !== undefined) {
      out.push({ field: s.field, message: `${s.path} ${relation(s.path, tree)} the system directory ${tree}; ${own}` });
      continue;
    }
    const other = [...settings, ...others].find((o) => o !== s && o.field.join(".") !== s.field.join(".") && pathsOverlap(s.path, o.path));
    if (other) out.push({ field: s.field, message: `${s.path} ${relation(s.path, other.path)} ${other.what} ${other.path} (${other.field.join(".")}); ${own}` });
  }
  return out;
}
