// Transport zlogin: a SmartOS zone entered from its global zone with
// `zlogin -Q <uuid> /bin/sh -s`, the script on stdin. The global zone is
// reached over ssh (zones of one global zone share its connection), or is
// this machine when mailfleet runs there.
import type { z } from "zod";
import type { zloginTransport } from "../inventory/schema.ts";
import type { SshConnections } from "./ssh.ts";
import { ViaHostTransport } from "./via-host.ts";

export type ZloginSettings = Omit<z.infer<typeof zloginTransport>, "type">;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The command run in the global zone. An alias is resolved there by vmadm in
 * the same command, so it costs no extra round trip. `zone` is validated to
 * letters, digits and . _ - (see zoneRef), so it needs no quoting.
 */
export function zloginCommand(zone: string, become: readonly string[]): string {
  if (UUID.test(zone)) return [...become, "zlogin", "-Q", zone, "/bin/sh", "-s"].join(" ");
  return [...become, "/bin/sh", "-c", `'z=$(vmadm lookup -1 alias=${zone} </dev/null) && exec zlogin -Q "$z" /bin/sh -s'`].join(" ");
}

/** The global zone is always SmartOS: pfexec when the login is not root. */
export function zoneTransport(settings: ZloginSettings, connections: SshConnections): ViaHostTransport {
  return new ViaHostTransport("zlogin", settings.zone, settings.via, "pfexec", (become) => zloginCommand(settings.zone, become), connections, settings.root ?? "");
}
