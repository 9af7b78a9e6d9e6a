// --untrusted: an inventory under review (a merge request) may not make this
// machine run anything, so a { command } secret and allowLocalCommands (ssh
// options that run commands here) are refused, each where it is set:
// allowLocalCommands wherever the transport's schema holds ssh settings (the
// ssh transport itself, the parent host a zone or jail is reached through).
import { valueAt } from "../describe.ts";
import type { InventoryProblem } from "../errors.ts";
import { secretRefs } from "../secret-refs.ts";
import type { HostUnderCheck } from "./host-check.ts";

const UNTRUSTED = "refused under --untrusted: an inventory under review may not run commands on this machine";

/** What of the host would run a command on this machine: its secret commands, then each allowLocalCommands of its transport. */
export function untrustedProblems({ settings, entry, pos, transport }: HostUnderCheck): InventoryProblem[] {
  return [
    ...secretRefs(settings).flatMap((s) => ("command" in s.ref ? [entry.placed(pos, [...s.at, "command"], `a secret command is ${UNTRUSTED}`)] : [])),
    ...transport.sshSettings.flatMap((at) =>
      valueAt(settings.transport, [...at, "allowLocalCommands"]) ? [entry.placed(pos, ["transport", ...at, "allowLocalCommands"], `allowLocalCommands is ${UNTRUSTED}`)] : [],
    ),
  ];
}
