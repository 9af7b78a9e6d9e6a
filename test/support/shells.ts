// The POSIX shells every generated script must run under (illumos' sh is ksh93).
import { execFileSync } from "node:child_process";

export interface Shell {
  name: string;
  /** Program and leading arguments, e.g. ["busybox", "sh"]. */
  argv: string[];
  /** The same as MAILFLEET_LOCAL_SHELL takes it. */
  env: string;
}

export const SHELLS: Shell[] = [
  { name: "dash", argv: ["dash"], env: "dash" },
  { name: "ksh93", argv: ["ksh"], env: "ksh" },
  { name: "busybox sh", argv: ["busybox", "sh"], env: "busybox sh" },
];

/** Fails loudly when a shell is missing or `ksh` is not ksh93, so no test passes under the wrong shell. */
export function checkShells(): void {
  for (const s of SHELLS) {
    const out = execFileSync(s.argv[0]!, [...s.argv.slice(1), "-c", "echo ok"], { encoding: "utf8" });
    if (out !== "ok\n") throw new Error(`${s.name} did not run a script`);
  }
  const v = execFileSync("ksh", ["-c", 'echo "${.sh.version}"'], { encoding: "utf8" });
  if (!/93/.test(v)) throw new Error(`ksh is not ksh93: ${v}`);
}
