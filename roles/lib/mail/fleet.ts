// Who talks to whom on the receiving side, computed from the whole inventory
// (pure): which hosts relay through a hub, from which address, and which
// host stores a hub's mail.
import { isIP } from "node:net";
import type { HostConfig } from "../../../src/inventory/catalog.ts";

const lower = (s: string) => s.toLowerCase();

/** The names a host answers to as a relay: its inventory name, its fqdn, its address (and its ssh address). */
export function namesOf(h: HostConfig): Set<string> {
  const out = new Set([lower(h.name), lower(h.fqdn)]);
  if (h.address) out.add(lower(h.address));
  if (h.transport.type === "ssh") out.add(lower(h.transport.address));
  return out;
}

/** The address a host sends mail from: `address`, else its ssh address when that is an IP literal. */
export function sendingAddress(h: HostConfig): string | undefined {
  if (h.address) return h.address;
  if (h.transport.type === "ssh" && isIP(h.transport.address) !== 0) return h.transport.address;
  return undefined;
}

export interface RelayClient {
  host: string;
  /** undefined: not known (an error at validate). */
  address?: string;
}

/** Every other host of the inventory whose relay.host names `hub`, in inventory order. */
export function relayClients(hub: HostConfig, fleet: readonly HostConfig[]): RelayClient[] {
  const names = namesOf(hub);
  return fleet
    .filter((h) => h.name !== hub.name && h.relay?.host !== undefined && names.has(lower(h.relay.host)))
    .map((h) => ({ host: h.name, address: sendingAddress(h) }));
}

/** The network of one host: a.b.c.d/32 or v6/128. */
export function hostNetwork(address: string): string {
  return isIP(address) === 6 ? `${address}/128` : `${address}/32`;
}

/** A network for mynetworks: IPv6 ones in brackets, [2001:db8::]/48. */
export function postfixNetwork(cidr: string): string {
  const slash = cidr.lastIndexOf("/");
  const addr = cidr.slice(0, slash);
  return isIP(addr) === 6 ? `[${addr}]${cidr.slice(slash)}` : cidr;
}
