// What a role is: everything about it lives in its folder (roles/<name>/)
// and one line of roles/index.ts registers it. The engine reads a role
// through this interface only.
import type { z } from "zod";
import type { HostConfig, RuleProblem } from "../src/inventory/catalog.ts";
import type { DirectorySetting, ManagedDirectory } from "../src/inventory/directories.ts";
import type { SecretResolver } from "../src/inventory/secrets.ts";
import type { Platform, PlatformName } from "../src/platforms/index.ts";
import { registerResourceKinds, type KindHandlers } from "../src/resources/index.ts";
import type { Resource } from "../src/resources/types.ts";
import type { MtaQueue } from "./lib/mta/types.ts";

export type { MtaQueue };
export type { QueuedMessage, QueueState } from "./lib/mta/types.ts";
// what every MTA's queue comes to, for the engine's and the command's `queue`
export { QUEUE_STATES, summarise, type QueueSummary } from "./lib/mta/queue-status.ts";

/** The settings sections a role reads (e.g. `nullmailer:`), key -> schema. Roles that share a section share its schema object. */
export type Sections = Record<string, z.ZodType>;

/** A host as a role sees it: the core settings, plus its sections, typed. */
export type RoleHost<S extends Sections> = HostConfig & { [K in keyof S]?: z.output<S[K]> };

/** A unix socket one role opens for another on the same host, for the user who connects. */
export interface SocketSpec {
  path: string;
  user: string;
  group: string;
}

/**
 * What roles offer each other. A role offers some of these (`offers`),
 * computed from its own settings and data; another role reads them through
 * its context's `links`, on its own host or on a host the inventory links it
 * to (a store, a relay). No role names another or reads its settings: a
 * setting renamed changes its own role, and tsc finds every use of an offer.
 */
export interface Capabilities {
  /** An MTA that hands its mail to a mail store over LMTP. */
  lmtpDelivery: {
    /** The host whose mail store takes it: this host (over `socket`) or another (over TCP). */
    store: string;
    /** Over TCP: the address its connections come from (the store lets in exactly that one). */
    from?: string;
    /** On this host: where it connects, which the mail store opens for it. */
    socket?: SocketSpec;
  };
  /** A mail store that takes mail over LMTP: its TCP endpoint for MTAs on other hosts (address unknown: an error at validate). */
  mailStore: { lmtp: { address?: string; port: number } };
  /** An MTA that has a SASL server on this host check passwords (submission): where it asks. */
  saslClient: { socket: SocketSpec };
  /** A SASL server for the MTAs on this host. */
  saslServer: { protocol: "dovecot" };
  /** A scanner the MTA asks about every message during the SMTP session: its HTTP endpoint or its unix socket. */
  scanner: { url?: string; socket?: string };
  /** A milter the MTAs on this host attach to (Postfix's smtpd_milters): where it listens, as Postfix names it (inet:127.0.0.1:11332). */
  milter: { address: string };
}

export type Capability = keyof Capabilities;

/** How a role sees what the roles of the fleet offer. */
export interface Links {
  /** What the roles of `host` (default: this host) offer. */
  of(host?: string): Partial<Capabilities>;
  /** Every host of the inventory that offers `k`, with what it offers. */
  offering<K extends Capability>(k: K): { host: HostConfig; offer: Capabilities[K] }[];
  /** The roles that can offer `k`, for messages ("a role that offers a mail store: dovecot"). */
  providers(k: Capability): string[];
}

export interface RoleContext<D> {
  platform: Platform;
  /** What the role needs on this host's platform (package and service names, paths, users). */
  data: D;
  secrets: SecretResolver;
  /** Every host of the inventory (a hub computes whom it relays for). */
  fleet: readonly HostConfig[];
  /** The queues of the other MTAs on this platform, for a role that replaces them (see roles/lib/mta). */
  otherMtas: readonly MtaQueue[];
  /** What the roles of this host and of the others offer. */
  links: Links;
}

export interface RuleContext<D> {
  data: D;
  fleet: readonly HostConfig[];
  links: Links;
}

export interface RoleDefinition<S extends Sections, D> {
  name: string;
  /** One line for the docs and error messages. */
  summary: string;
  sections: S;
  /** Host settings besides its sections that it reads for its own host: set where no role reads them, they are refused (on a host) or warned about. */
  settings?: readonly ("adminaddr" | "relay")[];
  /** Per platform what the role needs there; a host on any other platform is refused at validate. */
  platforms: Partial<Record<PlatformName, D>>;
  /** Roles of one group exclude each other on a host (one MTA per host). */
  exclusive?: "mta";
  /** Cross-field rules a per-field schema cannot say. */
  rules?(host: RoleHost<S>, ctx: RuleContext<D>): RuleProblem[];
  /** What the role can offer other roles (see Capabilities); `offers` gives each on a host, from the role's own settings and data. Pure. */
  provides?: readonly Capability[];
  offers?(host: RoleHost<S>, data: D): Partial<Capabilities>;
  /** What it reads of other roles on its own host: a role offering one of these there comes first in the host's desired state. */
  uses?: readonly Capability[];
  /** Directories the role manages on a platform (configuration, queue, spool): no directory setting of a role may overlap them. */
  managedDirectories?(data: D): ManagedDirectory[];
  /** Its settings naming a directory of its own (a mail store): refused at validate when one is a system directory or overlaps a managed directory or another such setting. */
  directorySettings?(host: RoleHost<S>): DirectorySetting[];
  /** host -> the resources it needs. Pure. */
  resources(host: RoleHost<S>, ctx: RoleContext<D>): Resource[];
  /** The resource kinds of its own it makes (mail knowledge: a spool move, an MTA handover), registered when the role is defined. */
  resourceKinds?: KindHandlers;
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
  settings: readonly string[];
  platforms: Partial<Record<PlatformName, unknown>>;
  exclusive?: "mta";
  rules(host: HostConfig, ctx: RuleContext<unknown>): RuleProblem[];
  provides: readonly Capability[];
  offers(host: HostConfig, data: unknown): Partial<Capabilities>;
  uses: readonly Capability[];
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
  if (def.resourceKinds) registerResourceKinds(def.resourceKinds);
  const masks = Object.fromEntries(Object.entries(def.masks ?? {}).map(([k, m]) => [`${def.name}:${k}`, m]));
  return {
    name: def.name,
    summary: def.summary,
    sections: def.sections,
    settings: def.settings ?? [],
    platforms: def.platforms,
    exclusive: def.exclusive,
    rules: (host, ctx) => def.rules?.(host as RoleHost<S>, ctx as RuleContext<D>) ?? [],
    provides: def.provides ?? [],
    offers: (host, data) => def.offers?.(host as RoleHost<S>, data as D) ?? {},
    uses: def.uses ?? [],
    managedDirectories: (data) => def.managedDirectories?.(data as D) ?? [],
    directorySettings: (host) => def.directorySettings?.(host as RoleHost<S>) ?? [],
    resources: (host, ctx) => def.resources(host as RoleHost<S>, ctx as RoleContext<D>),
    masks,
    queue: def.queue && ((data) => def.queue!(data as D)),
  };
}
