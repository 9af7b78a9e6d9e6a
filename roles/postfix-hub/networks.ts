// The hub's mynetworks, computed from the inventory (pure): loopback, the
// address of every host whose relay names this hub, then hub.networks. Each
// entry once, with a note saying whose it is, so the plan's main.cf diff shows
// exactly which host a change lets in.
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { hostNetwork, postfixNetwork, relayClients } from "../mail/fleet.ts";
import type { HubSettings } from "./schema.ts";

export interface RelayNetworks {
  /** mynetworks entries, in order. */
  mynetworks: string[];
  /** One line per entry: the entry and whose it is. */
  notes: string[];
}

export function relayNetworks(hub: HostConfig, fleet: readonly HostConfig[]): RelayNetworks {
  const owners = new Map<string, string[]>();
  const add = (entry: string, who: string) => {
    const list = owners.get(entry);
    if (list) list.push(who);
    else owners.set(entry, [who]);
  };
  // the hub itself (127.0.0.1, not all of 127.0.0.0/8: nothing else on the host sends from there)
  add("127.0.0.1/32", "loopback");
  add("[::1]/128", "loopback");
  for (const c of relayClients(hub, fleet)) if (c.address) add(hostNetwork(c.address), c.host);
  for (const n of (hub.hub as HubSettings | undefined)?.networks ?? []) add(postfixNetwork(n), "hub.networks");
  const mynetworks = [...owners.keys()];
  const width = Math.max(...mynetworks.map((n) => n.length));
  return { mynetworks, notes: mynetworks.map((n) => `${n.padEnd(width)}  ${owners.get(n)!.join(", ")}`) };
}
