// Desired state is a list of resources: plain data (code in them is an Sh of
// the script builder), so the desired state and a plan serialize as they are.
// Each kind knows how to probe the host for it, how to diff, and how to apply
// the difference (see ./index.ts).
import type { Platform } from "../platforms/types.ts";
import type { Sh } from "../shell/builder.ts";

export interface Owned {
  /** Owner and group on a real host; not managed under a root prefix (a sandbox). */
  owner?: string;
  group?: string;
  mode: number;
}

export interface FileResource extends Owned {
  kind: "file";
  id: string;
  path: string;
  /** The file's text; with `encoding: "base64"`, its bytes in base64. */
  content: string;
  /** base64: `content` is the bytes in base64 (a binary file, see file.ts secretFile). */
  encoding?: "base64";
  /** absent: the file must not exist; an existing one is moved aside as a backup. */
  state?: "present" | "absent";
  /** Holds a secret: diffs are shown masked (`mask`), never the value; without a mask, no line of it is shown. */
  sensitive?: boolean;
  /** Name of the mask (see HostContext.masks) hiding secret parts of this file's text on both sides of a diff. */
  mask?: string;
}

export interface DirectoryResource extends Owned {
  kind: "directory";
  id: string;
  path: string;
}

export interface SymlinkResource {
  kind: "symlink";
  id: string;
  path: string;
  target: string;
}

export interface FifoResource extends Owned {
  kind: "fifo";
  id: string;
  path: string;
}

export interface PackageResource {
  kind: "package";
  id: string;
  name: string;
  state: "present" | "absent";
  /** debconf-set-selections lines preseeded before the install, so it asks nothing (platforms with debconf). */
  debconf?: string;
}

export interface ServiceResource {
  kind: "service";
  id: string;
  name: string;
  /** Resource ids whose change restarts (or reloads) this service. */
  inputs: string[];
  onChange: "restart" | "reload";
  /** Must succeed before a restart or reload (e.g. `postfix check`). */
  check?: Sh;
}

/**
 * A command run as a handler (e.g. postmap): when one of its input resources
 * changes, or when what it creates is missing, older than its sources or has
 * the wrong mode.
 */
export interface CommandResource {
  kind: "command";
  id: string;
  /** What it does, for the plan, e.g. "postmap /etc/postfix/sasl_passwd". */
  description: string;
  /** Run on the host; never holds a secret (secrets travel in files). */
  command: Sh;
  /** Resource ids whose change makes it run. */
  inputs: string[];
  /** Files it reads: one newer than an output makes it run again. */
  sources: string[];
  /** Files it writes, with the mode (and owner) they must have afterwards. */
  creates: { path: string; mode: number; owner?: string; group?: string }[];
}

/**
 * Entries of the host lock whose apply is gone (killed): shown by plan, and
 * removed when an apply takes the lock. The engine adds it to every host; no
 * role declares it.
 */
export interface HostLockResource {
  kind: "hostLock";
  id: string;
}

/**
 * A system user and its primary group (the owner of every mailbox). Created
 * when missing; an existing one with other ids is a conflict mailfleet does
 * not resolve (changing the ids of an account that owns files would orphan them).
 */
export interface AccountResource {
  kind: "account";
  id: string;
  user: string;
  uid: number;
  group: string;
  gid: number;
  home: string;
}

/**
 * Directories `depth` levels below `base` (mailboxes: <base>/<domain>/<user>)
 * that are never deleted: those no longer in `expected` are reported as kept.
 */
export interface KeptDirsResource {
  kind: "keptDirs";
  id: string;
  base: string;
  depth: number;
  /** Paths relative to base, e.g. "one.example/bob". */
  expected: string[];
  /** What they are, for the plan: singular and plural, e.g. ["mailbox", "mailboxes"]. */
  noun: [string, string];
}

/**
 * A program on the host must be at least a release that has what the role
 * writes: checked at plan (a too old one refuses the host) and in the apply
 * once its package is installed.
 */
export interface MinVersionResource {
  kind: "minVersion";
  id: string;
  /** For messages, e.g. "Postfix". */
  program: string;
  /** Prints the installed version on its first line; nothing (or fails) when the program is not there. */
  version: Sh;
  /** The first good release of each branch, ascending, e.g. ["3.5.24", "3.6.14", "3.7.10", "3.8.5", "3.9"]; a branch newer than all listed is good. */
  minimum: string[];
  /** What needs it, for messages, e.g. "smtpd_forbid_bare_newline = normalize (SMTP smuggling)". */
  needs: string;
}

/**
 * A private key generated on the host, once: `generate` creates it when it
 * is missing; while it exists it is never replaced or read off the host,
 * and only its mode and owner converge. The probe prints its public half
 * (what `publicHalf` prints on the host), which the plan publishes
 * (HostPlan.publicKeys, `plan --json` hosts[].public_keys).
 */
export interface GeneratedKeyResource extends Owned {
  kind: "generatedKey";
  id: string;
  /** The private key's path; 0600, or 0640 to a group, at most. */
  path: string;
  /** What the key is, for the plan, e.g. "DKIM key of selector mail (RSA 2048)". */
  description: string;
  /**
   * Writes a new private key to the file "$1", which does not exist yet, in
   * a directory beside `path` (so under a root prefix too) that only its
   * owner can enter, where it runs, under umask 077; whatever else it
   * writes there is removed. Its output is discarded; on failure only lines
   * of its error output that cannot be key material are shown.
   */
  generate: Sh;
  /**
   * Prints the public half of the private key in file "$1" on stdout: PEM
   * (`openssl pkey -in "$1" -pubout`) or a value derived from it (a DKIM
   * record). Output that looks like the private half (PRIVATE in it, or a
   * line of the key file) is refused on the host, never printed.
   */
  publicHalf: Sh;
}

/** The public half of a generated key, as the probe found it: what a plan publishes about the key. */
export interface PublicKeyFact {
  id: string;
  /** The private key's path on the host. */
  path: string;
  description: string;
  present: boolean;
  /** What `publicHalf` printed, without its final line end; null while the key is missing or when it could not be derived. */
  public: string | null;
  /** SHA-256 (hex) of the public key: of the DER of a PEM public half (for a PUBLIC KEY: the SubjectPublicKeyInfo, as TLSA 3 1 1 pins it), else of its text. */
  sha256: string | null;
  /** Why there is no public half although the key is there. */
  problem?: string;
}

export interface ZfsDatasetResource {
  kind: "zfsDataset";
  id: string;
  dataset: string;
  mountpoint: string;
}

/** The generic kinds of resource, by name. */
export interface GenericResourceKinds {
  file: FileResource;
  directory: DirectoryResource;
  symlink: SymlinkResource;
  fifo: FifoResource;
  package: PackageResource;
  service: ServiceResource;
  zfsDataset: ZfsDatasetResource;
  command: CommandResource;
  hostLock: HostLockResource;
  account: AccountResource;
  keptDirs: KeptDirsResource;
  minVersion: MinVersionResource;
  generatedKey: GeneratedKeyResource;
}

/**
 * Every kind of resource, by name: the generic ones, and those a role folder
 * adds for what only mail knows (a spool move, an MTA handover), with
 * `declare module "<path>/src/resources/types.ts" { interface ResourceKinds { ... } }`
 * and their handlers registered through the role (roles/types.ts resourceKinds).
 */
export interface ResourceKinds extends GenericResourceKinds {}

export type Resource = ResourceKinds[keyof ResourceKinds];

export type ResourceKind = Resource["kind"];

export type Action =
  | "create"
  | "update"
  | "delete"
  | "install"
  | "remove"
  | "start"
  | "restart"
  | "reload"
  | "move"
  | "wrap"
  | "unwrap"
  | "run"
  | "skip"
  /** Left alone on purpose and said so (a mailbox no longer in the inventory): not a change. */
  | "keep";

export interface Change {
  id: string;
  kind: ResourceKind;
  action: Action;
  /** Path, package or service name. */
  target: string;
  /** One line for the plan output. */
  summary: string;
  /** Unified diff of the content, secrets masked. */
  diff?: string;
  /** Data from the probe that the apply step needs (plain values only, so a plan stays a value). */
  data?: Record<string, string | number | boolean>;
  /**
   * Set when the host holds something at a managed path that mailfleet will
   * not replace (a directory where a file goes): what is there and what was
   * expected. Such a host is refused at plan, nothing is written on it.
   */
  conflict?: string;
}

export interface HostContext {
  /** Prefix of every managed path ("" on a real host). */
  root: string;
  /** A root prefix is set: packages and services are skipped, ownership is not managed. */
  sandbox: boolean;
  platform: Platform;
  /** Masks by name (FileResource.mask): each hides the secret parts of a file's text. */
  masks: Readonly<Record<string, (text: string) => string>>;
}

/** What one apply script does on a host: the desired resources and the changes it makes, by id. */
export interface ApplyPlan {
  resources: ReadonlyMap<string, Resource>;
  changes: ReadonlyMap<string, Change>;
}

export interface ResourceHandler<R extends Resource> {
  /** Host paths the probe looks at, listed up front with one `ls` for the whole host (mf_stat reads that). */
  statPaths?(r: R): string[];
  /** Prints this resource's facts (lines between the engine's markers). */
  probe(r: R, ctx: HostContext): Sh;
  /** Compares desired with probed facts. `changed` holds the ids already changing before this one. */
  diff(r: R, facts: string[], ctx: HostContext, changed: ReadonlySet<string>): Change | null;
  /** Makes the change; ends with mf_fail (exit 1) on failure. `plan` is the whole apply (a service puts its inputs back when its check fails). */
  apply(r: R, change: Change, ctx: HostContext, plan?: ApplyPlan): Sh;
  /** Ids of other resources this one names (trigger inputs): each must exist in the desired state. */
  references?(r: R): string[];
  /** The public half this resource publishes, from its probed facts (generated keys). */
  publicKey?(r: R, facts: string[]): PublicKeyFact;
}
