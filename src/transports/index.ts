import type { HostConfig } from "../inventory/catalog.ts";
import { LocalTransport } from "./local.ts";
import { SshConnections, SshTransport, type Escalation } from "./ssh.ts";
import type { Transport } from "./types.ts";
import { zoneTransport } from "./zlogin.ts";
import { jailTransport } from "./jexec.ts";

/** The transport of a host; `escalation` is how its platform runs scripts as root for a login that is not root. */
export function createTransport(host: HostConfig, escalation: Escalation, connections: SshConnections): Transport {
  const t = host.transport;
  switch (t.type) {
    case "local":
      return new LocalTransport(t.root);
    case "ssh":
      return new SshTransport(connections.get(`host:${host.name}`, t), escalation, t.root);
    case "zlogin":
      return zoneTransport(t, connections);
    case "jexec":
      return jailTransport(t, connections);
  }
}

/** The transports of one run; `close` ends every connection they opened (multiplexing masters included). */
export class TransportSet {
  private readonly connections = new SshConnections();
  private readonly open: Transport[] = [];

  for(host: HostConfig, escalation: Escalation): Transport {
    const t = createTransport(host, escalation, this.connections);
    this.open.push(t);
    return t;
  }

  async close(): Promise<void> {
    await Promise.all(this.open.splice(0).map((t) => t.close?.()));
    await this.connections.close();
  }
}

export type { Transport, RunResult } from "./types.ts";
