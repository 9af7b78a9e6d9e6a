// vitest globalSetup: the end-to-end tests run the compiled CLI (bin/mailfleet.js
// loads dist/), so dist/ is built from the sources under test once per run.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { REPO } from "./cli.ts";

export default function setup(): void {
  execFileSync(process.execPath, [path.join(REPO, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" });
}
