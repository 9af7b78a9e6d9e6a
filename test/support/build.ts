// vitest globalSetup: the end-to-end tests run the compiled CLI (bin/mailfleet.js
// loads dist/), so dist/ is built from the sources under test once per run.
// The run's password-hash cache (roles/lib/mail/password-cache.ts) is a
// temporary directory, not the user's ~/.cache, and goes with the run.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO } from "./cli.ts";

export default function setup(): () => void {
  execFileSync(process.execPath, [path.join(REPO, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" });
  const cache = mkdtempSync(path.join(os.tmpdir(), "mf-cache-"));
  process.env.MAILFLEET_CACHE_DIR = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
