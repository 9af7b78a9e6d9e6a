import type { HostConfig } from "../inventory/load.ts";
import { LocalTransport } from "./local.ts";
import type { Transport } from "./types.ts";

export function createTransport(host: HostConfig): Transport {
  const t = host.transport;
  switch (t.type) {
    case "local":
      return new LocalTransport(t.root);
  }
}

export type { Transport, RunResult } from "./types.ts";
