// How a login that is not root runs a script as root: the privilege tools
// the platforms use (each platform names one, src/platforms), and the argv
// prefix each is run with. Spelt here once: the inventory's `become`, the
// platforms and the transports all take their names and prefixes from it
// (test/unit/layers.test.ts holds it to the platforms' own).
export const PRIVILEGE_TOOLS = {
  /** Linux, the BSDs: non-interactive, so a missing rule fails instead of prompting. */
  sudo: ["sudo", "-n"],
  /** illumos (SmartOS): the login's profiles. */
  pfexec: ["pfexec"],
} as const satisfies Record<string, readonly string[]>;

export type PrivilegeTool = keyof typeof PRIVILEGE_TOOLS;

export const PRIVILEGE_TOOL_NAMES = Object.keys(PRIVILEGE_TOOLS) as [PrivilegeTool, ...PrivilegeTool[]];
