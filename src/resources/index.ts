// The handler of every resource kind: the generic kinds here, and the kinds a
// role folder adds (mail knowledge: a spool move, an MTA handover), which the
// role registers when it is defined (roles/types.ts defineRole).
import { accountHandler } from "./account.ts";
import { commandHandler } from "./command.ts";
import { directoryHandler } from "./directory.ts";
import { fifoHandler } from "./fifo.ts";
import { fileHandler } from "./file.ts";
import { generatedKeyHandler } from "./generated-key.ts";
import { hostLockHandler } from "./host-lock.ts";
import { keptDirsHandler } from "./kept-dirs.ts";
import { minVersionHandler } from "./min-version.ts";
import { packageHandler } from "./package.ts";
import { serviceHandler } from "./service.ts";
import { symlinkHandler } from "./symlink.ts";
import type { GenericResourceKinds, Resource, ResourceHandler, ResourceKinds } from "./types.ts";
import { zfsDatasetHandler } from "./zfs-dataset.ts";

const generic: { [K in keyof GenericResourceKinds]: ResourceHandler<GenericResourceKinds[K]> } = {
  file: fileHandler,
  directory: directoryHandler,
  symlink: symlinkHandler,
  fifo: fifoHandler,
  package: packageHandler,
  service: serviceHandler,
  zfsDataset: zfsDatasetHandler,
  command: commandHandler,
  hostLock: hostLockHandler,
  account: accountHandler,
  keptDirs: keptDirsHandler,
  minVersion: minVersionHandler,
  generatedKey: generatedKeyHandler,
};

/** Handlers of kinds roles add, by kind. */
export type KindHandlers = { [K in keyof ResourceKinds]?: ResourceHandler<ResourceKinds[K]> };

const added = new Map<string, ResourceHandler<Resource>>();

/** Adds the kinds of a role; a kind is defined once (the same handler again is fine: roles share the MTA kinds). */
export function registerResourceKinds(kinds: KindHandlers): void {
  for (const [kind, handler] of Object.entries(kinds) as [string, ResourceHandler<Resource>][]) {
    if (kind in generic) throw new Error(`resource kind ${kind} is a generic one`);
    const had = added.get(kind);
    if (had && had !== handler) throw new Error(`resource kind ${kind} is defined twice`);
    added.set(kind, handler);
  }
}

export function handlerFor<R extends Resource>(r: R): ResourceHandler<R> {
  const h = (generic as Record<string, unknown>)[r.kind] ?? added.get(r.kind);
  if (!h) throw new Error(`no handler for resource kind ${r.kind}: the role that makes it is not loaded`);
  return h as ResourceHandler<R>;
}

/** Every kind known now: the generic ones and those of the roles loaded. */
export function resourceKinds(): string[] {
  return [...Object.keys(generic), ...added.keys()];
}

export type * from "./types.ts";
