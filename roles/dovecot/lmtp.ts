// Which host stores whose mail, and how a store host's Dovecot takes it over
// LMTP/TCP: its endpoint, the MTAs of other hosts that deliver there, and the
// lookup key that lets only those MTAs deliver (see docs/scanning.md: Dovecot
// 2.3 cannot refuse an LMTP client by its address, so its recipients are
// looked up under the client's address). Read by the MTA roles that deliver to
// a store and by the dovecot role itself.
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { HostConfig } from "../../src/inventory/catalog.ts";
import { sendingAddress } from "../lib/mail/fleet.ts";
import type { DovecotSettings } from "./schema.ts";

export const LMTP_PORT = 24;

/**
 * The host that stores an MTA's mail: postfix-hub's `hub.store` (default the
 * hub itself, over a unix socket), opensmtpd's `opensmtpd.store` (a scan host
 * keeps no mail); undefined for a host that delivers to no Dovecot.
 */
export function storeName(mta: HostConfig): string | undefined {
  if (mta.roles.includes("postfix-hub")) return (mta.hub as { store?: string } | undefined)?.store ?? mta.name;
  if (mta.roles.includes("opensmtpd")) return (mta.opensmtpd as { store?: string } | undefined)?.store;
  return undefined;
}

/** The LMTP/TCP endpoint of a store host; address undefined when the inventory does not say it. */
export function lmtpEndpoint(store: HostConfig): { address?: string; port: number } {
  const lmtp = (store.dovecot as DovecotSettings | undefined)?.lmtp;
  return { address: lmtp?.address ?? store.address, port: lmtp?.port ?? LMTP_PORT };
}

export interface LmtpClient {
  /** The inventory host, or "dovecot.lmtp.clients" for an address listed there. */
  host: string;
  /** The address it connects from; undefined: not known (an error at validate). */
  address?: string;
}

/** The other hosts delivering to `store` over TCP (with the address each sends from), then dovecot.lmtp.clients. */
export function lmtpClients(store: HostConfig, fleet: readonly HostConfig[]): LmtpClient[] {
  const hosts = fleet.filter((h) => h.name !== store.name && storeName(h) === store.name).map((h) => ({ host: h.name, address: sendingAddress(h) }));
  const listed = ((store.dovecot as DovecotSettings | undefined)?.lmtp?.clients ?? []).map((address) => ({ host: "dovecot.lmtp.clients", address }));
  return [...hosts, ...listed];
}

/** An address as Dovecot prints a client's (%{rip}): IPv6 in its shortest form, lower case. */
export function canonicalAddress(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/** The lmtp-clients key of a client address: SHA-256 of it as Dovecot prints it (an IPv6 address has ':', which ends a passwd-file key). */
export function lmtpClientKey(address: string): string {
  return createHash("sha256").update(canonicalAddress(address)).digest("hex");
}

/** The key of LMTP over the unix socket (no client address): what %{if;%{rip};eq;;local;...} gives. */
export const LOCAL_LMTP_KEY = "local";

/** username_format of the LMTP-only userdb: the client's key, '/', the recipient. */
export const LMTP_CLIENT_FORMAT = `%{if;%{rip};eq;;${LOCAL_LMTP_KEY};%{sha256:rip}}/%Lu`;
