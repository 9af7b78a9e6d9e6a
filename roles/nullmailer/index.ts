// nullmailer: relay-only MTA for SmartOS zones and small Linux hosts.
import { mtaResourceKinds } from "../lib/mta/kinds.ts";
import { defineRole } from "../types.ts";
import { shimHandler } from "./shim.ts";
import { orphanedSpoolHandler } from "./orphaned-spool.ts";
import { spoolMoveHandler } from "./spool-move.ts";
import { nullmailerPlatforms } from "./platforms.ts";
import { nullmailerQueue } from "./queue.ts";
import { maskRemotes } from "./remotes.ts";
import { nullmailerResources } from "./resources.ts";
import { nullmailerRules } from "./rules.ts";
import { nullmailerSections } from "./schema.ts";

export const nullmailer = defineRole({
  name: "nullmailer",
  summary: "nullmailer relays every message of the host to the relay (SmartOS zones, small Linux hosts)",
  sections: nullmailerSections,
  settings: ["adminaddr", "relay"],
  platforms: nullmailerPlatforms,
  exclusive: "mta",
  rules: nullmailerRules,
  managedDirectories: (nm) => [
    { path: nm.spool, what: "nullmailer's spool" },
    { path: nm.confDir, what: "nullmailer's configuration directory" },
  ],
  directorySettings: (h) =>
    h.nullmailer?.persistentSpool ? [{ field: ["nullmailer", "persistentSpool"], path: h.nullmailer.persistentSpool, what: "the persistent spool", example: "/home/nullmailer-spool" }] : [],
  resources: nullmailerResources,
  resourceKinds: { spoolMove: spoolMoveHandler, orphanedSpool: orphanedSpoolHandler, shim: shimHandler, ...mtaResourceKinds },
  masks: { remotes: maskRemotes },
  queue: nullmailerQueue,
});
