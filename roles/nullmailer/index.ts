// nullmailer: relay-only MTA for SmartOS zones and small Linux hosts.
import { defineRole } from "../types.ts";
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
  platforms: nullmailerPlatforms,
  exclusive: "mta",
  rules: nullmailerRules,
  resources: nullmailerResources,
  masks: { remotes: maskRemotes },
  queue: nullmailerQueue,
});
