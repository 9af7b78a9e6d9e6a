// What a role is: everything about it lives in its folder (roles/<name>/)
// and one line of roles/index.ts registers it. The engine reads a role
// through this interface only.
import type { z } from "zod";
import type { HostConfig, RuleProblem } from "../src/inventory/catalog.ts";
import type { DirectorySetting, ManagedDirectory } from "../src/inventory/directories.ts";
import type { SecretResolver } from "../src/inventory/secrets.ts";
import type { Platform, PlatformName } from "../src/platforms/index.ts";
import type { MtaQueue, Resource } from "../src/resources/types.ts";

/** The settings sections a role reads (e.g. `nullmailer:`), key -> schema. Roles that share a section share its schema object. */
export type Sections = Record<string, z.ZodType>;

/** A host as a role sees it: the core settings, plus its sections, typed. */
export type RoleHost<S extends Sections> = HostConfig & { [K in keyof S]?: z.output<S[K]> };

export interface RoleContext<D> {
  platform: Platform;
  /** What the role needs on this host's platform (package and service names, paths, users). */
  data: D;
  secrets: SecretResolver;
  /** Every host of the inventory (a hub computes whom it relays for). */
  fleet: readonly HostConfig[];
  /** The queues of the other MTAs on this platform, for a role that replaces them (see roles/lib/mta). */
  otherMtas: readonly MtaQueue[];
}

export interface RuleContext<D> {
  data: D;
  fleet: readonly HostConfig[];
}

export interface RoleDefinition<S extends Sections, D> {
  name: string;
  /** One line for the docs and error messages. */
  summary: string;
  sections: S;
  /** Per platform what the role needs there; a host on any other platform is refused at validate. */
  platforms: Partial<Record<PlatformName, D>>;
  /** Roles of one group exclude each other on a host (one MTA per host). */
  exclusive?: "mta";
  /** Cross-field rules a per-field schema cannot say. */
  rules?(host: RoleHost<S>, ctx: RuleContext<D>): RuleProblem[];
  /** Directories the role manages on a platform (configuration, queue, spool): no directory setting of a role may overlap them. */
  managedDirectories?(data: D): ManagedDirectory[];
  /** Its settings naming a directory of its own (a mail store): refused at validate when one is a system directory or overlaps a managed directory or another such setting. */
  directorySettings?(host: RoleHost<S>): DirectorySetting[];
  /** host -> the resources it needs. Pure. */
  resources(host: RoleHost<S>, ctx: RoleContext<D>): Resource[];
  /** Masks by name for the role's secret-holding files (FileResource.mask is `<role>:<name>`). */
  masks?: Record<string, (text: string) => string>;
  /** An MTA role: how its queue is counted, flushed and parked on a platform, for a switch to another MTA. */
  queue?(data: D): MtaQueue;
}

/** A registered role, its types erased (see defineRole). */
export interface Role {
  name: string;
  summary: string;
  sections: Sections;
  platforms: Partial<Record<PlatformName, unknown>>;
  exclusive?: "mta";
  rules(host: HostConfig, ctx: RuleContext<unknown>): RuleProblem[];
  managedDirectories(data: unknown): ManagedDirectory[];
  directorySettings(host: HostConfig): DirectorySetting[];
  resources(host: HostConfig, ctx: RoleContext<unknown>): Resource[];
  masks: Record<string, (text: string) => string>;
  queue?(data: unknown): MtaQueue;
}

/**
 * Registers a role's definition. The loader has validated each section of a
 * host with the schema the role declares, so the host the role is given has
 * those types; this is the one place that says so.
 */
export function defineRole<S extends Sections, D>(def: RoleDefinition<S, D>): Role {
  const masks = Object.fromEntries(Object.entries(def.masks ?? {}).map(([k, m]) => [`${def.name}:${k}`, m]));
  return {
    name: def.name,
    summary: def.summary,
    sections: def.sections,
    platforms: def.platforms,
    exclusive: def.exclusive,
    rules: (host, ctx) => def.rules?.(host as RoleHost<S>, ctx as RuleContext<D>) ?? [],
    managedDirectories: (data) => def.managedDirectories?.(data as D) ?? [],
    directorySettings: (host) => def.directorySettings?.(host as RoleHost<S>) ?? [],
    resources: (host, ctx) => def.resources(host as RoleHost<S>, ctx as RoleContext<D>),
    masks,
    queue: def.queue && ((data) => def.queue!(data as D)),
  };
}
