// --untrusted: an inventory under review (a merge request) may not make this
// machine run anything, so a { command } secret and allowLocalCommands (ssh
// options that run commands here) are refused, each where it is set.
import type { InventoryProblem } from "../errors.ts";
import { secretRefs } from "../secret-refs.ts";
import type { HostEntry } from "./host-entries.ts";
import type { HostSettings } from "./host-merge.ts";
import type { Positions } from "./positions.ts";

const UNTRUSTED = "refused under --untrusted: an inventory under review may not run commands on this machine";

/** What of `host` would run a command on this machine: its secret commands, then its transport's allowLocalCommands. */
export function untrustedProblems(host: HostSettings, entry: HostEntry, pos: Positions): InventoryProblem[] {
  const t = host.transport;
  return [
    ...secretRefs(host).flatMap((s) => ("command" in s.ref ? [entry.placed(pos, [...s.at, "command"], `a secret command is ${UNTRUSTED}`)] : [])),
    ...(t.type === "ssh" && t.allowLocalCommands ? [entry.placed(pos, ["transport", "allowLocalCommands"], `allowLocalCommands is ${UNTRUSTED}`)] : []),
    ...((t.type === "zlogin" || t.type === "jexec") && t.via?.allowLocalCommands
      ? [entry.placed(pos, ["transport", "via", "allowLocalCommands"], `allowLocalCommands is ${UNTRUSTED}`)]
      : []),
  ];
}
