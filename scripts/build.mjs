// npm run build (also run by `prepare` on npm install, and before the tests):
// bundles the CLI from src/cli/main.ts into dist/ with esbuild (each command's
// modules in their own chunk, loaded when the command runs; cdktf stays in
// node_modules), and precompiles every role's templates (templates/<role>/)
// into dist/templates/, where the roles look them up. A bundle starts in about half the time of one module per
// file, and Terraform's local-exec starts mailfleet once per host. The new tree
// is built beside dist/ and swapped in, so a CLI started meanwhile never finds
// half a tree. `--if-stale` builds only when a source is newer than dist/.
// Type checking is `npm run typecheck` (tsc), not part of the build.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import Handlebars from "handlebars";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const dist = path.join(root, "dist");
const SOURCES = ["src", "roles", "templates", "stacks", "scripts/build.mjs", "package.json", "package-lock.json"];

function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((n) => newest(path.join(p, n))));
}

const stamp = path.join(dist, ".built");
if (process.argv.includes("--if-stale") && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  if (SOURCES.every((s) => newest(path.join(root, s)) <= built)) process.exit(0);
}

/** A module of roles/ finds the templates through import.meta.url; in the bundle that is the chunk's, so name the module's place under dist/. */
const roleFolders = {
  name: "role-folders",
  setup(b) {
    b.onLoad({ filter: /[\\/]roles[\\/](?:[^\\/]+[\\/])*[^\\/]+\.ts$/ }, (args) => {
      const rel = path.relative(root, args.path).split(path.sep).join("/").replace(/\.ts$/, ".js");
      const text = readFileSync(args.path, "utf8").replaceAll("import.meta.url", `new URL(${JSON.stringify(`./${rel}`)}, import.meta.url).href`);
      return { contents: text, loader: "ts" };
    });
  },
};

/** The build's identity, recorded in saved plans: a hash of every source file (paths and contents), the same on every checkout of one commit. */
function buildId() {
  const h = createHash("sha256");
  const add = (rel) => {
    const p = path.join(root, rel);
    if (statSync(p).isDirectory()) {
      for (const n of readdirSync(p).sort()) add(path.posix.join(rel, n));
    } else h.update(`${rel}\0${readFileSync(p).length}\0`).update(readFileSync(p));
  };
  SOURCES.forEach(add);
  return h.digest("hex").slice(0, 16);
}

const next = `${dist}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
try {
  await build({
    absWorkingDir: root,
    entryPoints: ["src/cli/main.ts"],
    outdir: next,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    legalComments: "linked",
    // CommonJS packages, loaded through createRequire by stacks/cdktf.ts only when synth runs
    external: ["cdktf", "@cdktf/*", "constructs"],
    // for the CommonJS packages inside the bundle (handlebars, ...) that call require()
    banner: { js: 'import { createRequire as mfCreateRequire } from "node:module"; const require = mfCreateRequire(import.meta.url);' },
    plugins: [roleFolders],
    define: {
      __MAILFLEET_VERSION__: JSON.stringify(JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version),
      __MAILFLEET_BUILD__: JSON.stringify(buildId()),
    },
    logLevel: "warning",
  });
  for (const role of readdirSync(path.join(root, "templates"))) {
    const templates = path.join(root, "templates", role);
    const out = path.join(next, "templates", role);
    mkdirSync(out, { recursive: true });
    cpSync(templates, out, { recursive: true });
    // precompiled with the options roles/templates.ts compiles with, so the CLI needs only Handlebars' runtime
    for (const name of readdirSync(templates).filter((n) => n.endsWith(".hbs"))) {
      const spec = Handlebars.precompile(readFileSync(path.join(templates, name), "utf8"), { noEscape: true, strict: true });
      writeFileSync(path.join(out, `${name}.cjs`), `module.exports = ${spec};\n`);
    }
  }
} catch (e) {
  rmSync(next, { recursive: true, force: true });
  console.error(`build: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
writeFileSync(path.join(next, ".built"), "");
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
