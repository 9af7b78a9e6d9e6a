// A host entered from another one (a SmartOS zone from its global zone, a
// FreeBSD jail from its jail host): the parent runs one command that starts
// /bin/sh -s inside, the script on stdin. The parent is reached over ssh
// (the children of one parent share its connection), or is this machine.
import type { z } from "zod";
import type { sshConnection } from "../inventory/schema.ts";
import { runHere } from "./local.ts";
import { becomePrefix, connectionKey, destination, type Escalation, type SshConnection, type SshConnections } from "./ssh.ts";
import type { RunResult, Transport } from "./types.ts";

type Via = z.infer<z.ZodObject<typeof sshConnection>>;

export class ViaHostTransport implements Transport {
  readonly description: string;
  private readonly command: string;
  private readonly parent: SshConnection | undefined;

  /**
   * `kind` names the transport ("zlogin"), `child` the zone or jail;
   * `command(become)` is what the parent runs, with the parent's escalation
   * prefix when its login is not root.
   */
  constructor(
    kind: string,
    child: string,
    via: Via | undefined,
    escalation: Escalation,
    command: (become: readonly string[]) => string,
    connections: SshConnections,
    readonly root = "",
  ) {
    this.command = command(via ? becomePrefix(via, escalation) : []);
    this.parent = via ? connections.get(`${kind}-parent:${connectionKey(via)}`, via) : undefined;
    this.description = `${kind}:${via ? `${destination(via)}/` : ""}${child}${root ? `:${root}` : ""}`;
  }

  run(script: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    if (this.parent) return this.parent.run(this.command, script, opts.timeoutMs);
    return runHere(["/bin/sh", "-c", this.command], script, opts.timeoutMs);
  }

  async close(): Promise<void> {
    await this.parent?.release();
  }
}
