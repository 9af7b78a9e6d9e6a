import { accountHandler } from "./account.ts";
import { commandHandler } from "./command.ts";
import { directoryHandler } from "./directory.ts";
import { fifoHandler } from "./fifo.ts";
import { fileHandler } from "./file.ts";
import { generatedKeyHandler } from "./generated-key.ts";
import { hostLockHandler } from "./host-lock.ts";
import { keptDirsHandler } from "./kept-dirs.ts";
import { mailStoreMoveHandler } from "./mail-store-move.ts";
import { minVersionHandler } from "./min-version.ts";
import { mtaHandoverHandler } from "./mta-handover.ts";
import { parkedMailHandler } from "./parked-mail.ts";
import { packageHandler } from "./package.ts";
import { serviceHandler } from "./service.ts";
import { shimHandler } from "./shim.ts";
import { spoolMoveHandler } from "./spool-move.ts";
import { symlinkHandler } from "./symlink.ts";
import type { Resource, ResourceHandler } from "./types.ts";
import { zfsDatasetHandler } from "./zfs-dataset.ts";

type Handlers = { [K in Resource["kind"]]: ResourceHandler<Extract<Resource, { kind: K }>> };

export const handlers: Handlers = {
  file: fileHandler,
  directory: directoryHandler,
  symlink: symlinkHandler,
  fifo: fifoHandler,
  package: packageHandler,
  service: serviceHandler,
  spoolMove: spoolMoveHandler,
  shim: shimHandler,
  mtaHandover: mtaHandoverHandler,
  zfsDataset: zfsDatasetHandler,
  command: commandHandler,
  parkedMail: parkedMailHandler,
  hostLock: hostLockHandler,
  account: accountHandler,
  keptDirs: keptDirsHandler,
  minVersion: minVersionHandler,
  mailStoreMove: mailStoreMoveHandler,
  generatedKey: generatedKeyHandler,
};

export function handlerFor<R extends Resource>(r: R): ResourceHandler<R> {
  return handlers[r.kind] as unknown as ResourceHandler<R>;
}

export type * from "./types.ts";
