// How a store host's Dovecot takes mail over LMTP/TCP: its endpoint (offered
// as its mailStore), the MTAs of other hosts that deliver there (those whose
// lmtpDelivery names this host), and the lookup key that lets only those
// MTAs deliver (see docs/scanning.md: Dovecot 2.3 cannot refuse an LMTP client
// by its address, so its recipients are looked up under the client's address).
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { Links, RoleHost } from "../types.ts";
import type { dovecotSections } from "./schema.ts";

type DovecotHost = RoleHost<typeof dovecotSections>;

export const LMTP_PORT = 24;

/** The LMTP/TCP endpoint of a store host; address undefined when the inventory does not say it. */
export function lmtpEndpoint(store: DovecotHost): { address?: string; port: number } {
  const lmtp = store.dovecot?.lmtp;
  return { address: lmtp?.address ?? store.address, port: lmtp?.port ?? LMTP_PORT };
}

export interface LmtpClient {
  /** The inventory host, or "dovecot.lmtp.clients" for an address listed there. */
  host: string;
  /** The address it connects from; undefined: not known (an error at validate). */
  address?: string;
}

/** The MTAs of other hosts delivering to `store` over TCP (with the address each connects from), then dovecot.lmtp.clients. */
export function lmtpClients(store: DovecotHost, links: Links): LmtpClient[] {
  const hosts = links
    .offering("lmtpDelivery")
    .filter(({ host, offer }) => host.name !== store.name && offer.store === store.name)
    .map(({ host, offer }) => ({ host: host.name, address: offer.from }));
  const listed = (store.dovecot?.lmtp?.clients ?? []).map((address) => ({ host: "dovecot.lmtp.clients", address }));
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
