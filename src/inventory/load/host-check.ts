// What a check of one merged host is given, and what it returns: the
// problems that stop the host (none: it passes on to the next check).
import type { InventoryProblem } from "../errors.ts";
import type { TransportFacts } from "./compiled.ts";
import type { HostEntry } from "./host-entries.ts";
import type { HostSettings } from "./host-merge.ts";
import type { Positions } from "./positions.ts";

export interface HostUnderCheck {
  settings: HostSettings;
  entry: HostEntry;
  pos: Positions;
  /** What the schema of the host's transport says about its settings. */
  transport: TransportFacts;
}

export type HostCheck = (host: HostUnderCheck) => InventoryProblem[];
