// Where a store host's Dovecot takes mail over LMTP/TCP, and from whom: the
// other hosts whose hub.store names it. Read by the MTA roles that deliver
// to it and by the dovecot role itself.
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { sendingAddress } from "../mail/fleet.ts";
import type { DovecotSettings } from "./schema.ts";

export const LMTP_PORT = 24;

/** The host that stores a hub's mail: the one its hub.store names, else itself; undefined for a host that is no hub. */
export function storeName(mta: HostConfig): string | undefined {
  if (!mta.roles.includes("postfix-hub")) return undefined;
  return (mta.hub as { store?: string } | undefined)?.store ?? mta.name;
}

/** The LMTP/TCP endpoint of a store host; address undefined when the inventory does not say it. */
export function lmtpEndpoint(store: HostConfig): { address?: string; port: number } {
  const lmtp = (store.dovecot as DovecotSettings | undefined)?.lmtp;
  return { address: lmtp?.address ?? store.address, port: lmtp?.port ?? LMTP_PORT };
}

/** The other hosts delivering to `store` over TCP, with the address each sends from. */
export function lmtpClients(store: HostConfig, fleet: readonly HostConfig[]): { host: string; address?: string }[] {
  return fleet.filter((h) => h.name !== store.name && storeName(h) === store.name).map((h) => ({ host: h.name, address: sendingAddress(h) }));
}
