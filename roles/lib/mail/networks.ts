// Who may relay through a receiving MTA, computed from the inventory (pure):
// loopback, the address of every host whose relay names this host, then the
// extra networks of the MTA's own section. Each entry once, with whose it is,
// so a plan's diff shows exactly which host a change lets in. The hub
// (postfix-hub's mynetworks) and the scan host (opensmtpd's relay-clients
// table) share this computation and differ only in how they spell a network.
import type { HostConfig } from "../../../src/inventory/catalog.ts";
import { hostNetwork, relayClients } from "./fleet.ts";

export interface RelayNetworks {
  /** The entries, in order, as the MTA spells them. */
  entries: string[];
  /** One line per entry: the entry and whose it is. */
  notes: string[];
}

/**
 * `extra` are the MTA section's networks (CIDR), named `extraLabel` in the
 * notes; `spell` turns a CIDR network into the MTA's notation.
 */
export function relayNetworks(
  mta: HostConfig,
  fleet: readonly HostConfig[],
  extra: { networks: readonly string[]; label: string },
  spell: (cidr: string) => string = (c) => c,
): RelayNetworks {
  const owners = new Map<string, string[]>();
  const add = (cidr: string, who: string) => {
    const entry = spell(cidr);
    const list = owners.get(entry);
    if (list) list.push(who);
    else owners.set(entry, [who]);
  };
  // the host itself (127.0.0.1, not all of 127.0.0.0/8: nothing else on the host sends from there)
  add("127.0.0.1/32", "loopback");
  add("::1/128", "loopback");
  for (const c of relayClients(mta, fleet)) if (c.address) add(hostNetwork(c.address), c.host);
  for (const n of extra.networks) add(n, extra.label);
  const entries = [...owners.keys()];
  const width = Math.max(...entries.map((n) => n.length));
  return { entries, notes: entries.map((n) => `${n.padEnd(width)}  ${owners.get(n)!.join(", ")}`) };
}
