// The hub's mynetworks: the receiving side's relay computation (roles/lib/mail/
// networks.ts) with hub.networks, in Postfix's notation.
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { postfixNetwork } from "../lib/mail/fleet.ts";
import { relayNetworks as computed } from "../lib/mail/networks.ts";
import type { RoleHost } from "../types.ts";
import type { hubSections } from "./schema.ts";

export interface HubNetworks {
  /** mynetworks entries, in order. */
  mynetworks: string[];
  /** One line per entry: the entry and whose it is. */
  notes: string[];
}

export function relayNetworks(hub: RoleHost<typeof hubSections>, fleet: readonly HostConfig[]): HubNetworks {
  const { entries, notes } = computed(hub, fleet, { networks: hub.hub?.networks ?? [], label: "hub.networks" }, postfixNetwork);
  return { mynetworks: entries, notes };
}
