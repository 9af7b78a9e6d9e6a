// Which mailfleet this is. A saved plan records it and is applied only by the
// same one: the version from package.json and the build, a hash of the
// sources the CLI was built from (scripts/build.mjs defines both in the
// bundle); run from the sources, the build is "source".
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

declare const __MAILFLEET_VERSION__: string;
declare const __MAILFLEET_BUILD__: string;

function versionFromPackage(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mailfleet" && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}

export const MAILFLEET_VERSION: string = typeof __MAILFLEET_VERSION__ === "string" ? __MAILFLEET_VERSION__ : versionFromPackage();
export const MAILFLEET_BUILD: string = typeof __MAILFLEET_BUILD__ === "string" ? __MAILFLEET_BUILD__ : "source";
