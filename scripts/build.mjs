// npm run build (also run by `prepare` on npm install and before the tests):
// compiles src/, roles/ and stacks/ to dist/ with tsc and copies each role's
// templates beside its compiled module, where the role looks them up. The new
// tree is built beside dist/ and swapped in, so a CLI started meanwhile never
// finds half a tree. `--if-stale` builds only when a source is newer than dist/.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const dist = path.join(root, "dist");
const stamp = path.join(dist, ".built");
const SOURCES = ["src", "roles", "stacks", "tsconfig.json", "tsconfig.build.json", "package.json"];

function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((n) => newest(path.join(p, n))));
}

if (process.argv.includes("--if-stale") && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  if (SOURCES.every((s) => newest(path.join(root, s)) <= built)) process.exit(0);
}

const next = `${dist}.next-${process.pid}`;
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync(next, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json"), "--outDir", next], { stdio: "inherit" });
if (r.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
for (const role of readdirSync(path.join(root, "roles"))) {
  const templates = path.join(root, "roles", role, "templates");
  if (existsSync(templates)) cpSync(templates, path.join(next, "roles", role, "templates"), { recursive: true });
}
writeFileSync(path.join(next, ".built"), "");
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
