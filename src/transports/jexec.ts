// Transport jexec: a FreeBSD jail entered from its host with
// `jexec <jail> /bin/sh -s` (see via-host.ts), as zlogin enters a SmartOS zone.
import type { z } from "zod";
import type { jexecTransport } from "../inventory/schema.ts";
import { shq } from "../shell/quote.ts";
import type { SshConnections } from "./ssh.ts";
import { ViaHostTransport } from "./via-host.ts";

export type JexecSettings = Omit<z.infer<typeof jexecTransport>, "type">;

/** The command run on the jail host; `jail` is a name or jid (validated: letters, digits and . _ -). */
export function jexecCommand(jail: string, become: readonly string[]): string {
  return [...become, "jexec", shq(jail), "/bin/sh", "-s"].join(" ");
}

/** The jail host runs FreeBSD: sudo when the login is not root. */
export function jailTransport(settings: JexecSettings, connections: SshConnections): ViaHostTransport {
  return new ViaHostTransport("jexec", settings.jail, settings.via, "sudo", (become) => jexecCommand(settings.jail, become), connections, settings.root ?? "");
}
