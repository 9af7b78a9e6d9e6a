// The import graph of src/, roles/ and stacks/: layers import downward only
// (cli -> stacks -> engine -> roles -> resources -> transports/platforms ->
// inventory/shell), and there is no circle at all.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { roles } from "../../roles/index.ts";
import { platformNames, platforms } from "../../src/platforms/index.ts";
import { PRIVILEGE_TOOL_NAMES } from "../../src/inventory/privilege.ts";
import { REPO } from "../support/cli.ts";

/** Layer of a module by its folder; a higher layer may import a lower one, and its own folder. */
const LAYERS: [string, number][] = [
  ["src/shell/", 0],
  ["src/inventory/", 0],
  ["src/platforms/", 1],
  ["src/transports/", 1],
  ["src/resources/", 2],
  ["roles/", 3],
  ["src/engine/", 4],
  ["stacks/", 5],
  ["src/cli/", 6],
];

function layerOf(file: string): { folder: string; layer: number } {
  const hit = LAYERS.find(([prefix]) => file.startsWith(prefix));
  if (!hit) throw new Error(`${file} is in no layer`);
  return { folder: hit[0], layer: hit[1] };
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(REPO, dir))) {
    const rel = path.posix.join(dir, name);
    if (statSync(path.join(REPO, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Relative imports of a module (static and dynamic, types included: a type import is a dependency too). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(REPO, file), "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

const files = ["src", "roles", "stacks"].flatMap(sources);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("layers", () => {
  it("every import resolves to a module of the project", () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it("no module imports from a higher layer, nor from another folder of its own layer outside roles/", () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = layerOf(f);
      for (const d of deps) {
        const to = layerOf(d);
        if (to.layer > from.layer || (to.layer === from.layer && to.folder !== from.folder)) bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("has no circle", () => {
    const state = new Map<string, "open" | "done">();
    const circles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        circles.push([...trail.slice(trail.indexOf(f)), f].join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const d of graph.get(f) ?? []) visit(d, [...trail, f]);
      state.set(f, "done");
    };
    for (const f of graph.keys()) visit(f, []);
    expect(circles).toEqual([]);
  });

  it("src/inventory imports no role and knows no role or platform by name", () => {
    const names = [...roles.map((r) => r.name), ...platformNames];
    const named = new RegExp(`["'](${names.join("|")})["']`);
    const inventory = files.filter((f) => f.startsWith("src/inventory/"));
    for (const f of inventory) {
      expect(graph.get(f)!.filter((d) => !d.startsWith("src/inventory/") && !d.startsWith("src/shell/")), f).toEqual([]);
      expect(readFileSync(path.join(REPO, f), "utf8"), f).not.toMatch(named);
    }
  });

  it("the composition root alone imports the role registry: the engine and the stacks receive the roles (src/engine/catalog.ts)", () => {
    const registry = [...graph].filter(([, deps]) => deps.includes("roles/index.ts")).map(([f]) => f);
    expect(registry).toEqual(["src/cli/wiring.ts"]);
    const intoRoles = [...graph].flatMap(([f, deps]) =>
      f.startsWith("src/") || f.startsWith("stacks/") ? deps.filter((d) => d.startsWith("roles/") && d !== "roles/types.ts" && f !== "src/cli/wiring.ts").map((d) => `${f} -> ${d}`) : [],
    );
    expect(intoRoles).toEqual([]);
  });

  it("src/engine, src/resources, src/transports, src/shell and stacks name no role", () => {
    const named = new RegExp(`["'](${roles.map((r) => r.name).join("|")})["']`);
    const generic = files.filter((f) => /^(src\/(engine|resources|transports|shell|platforms)|stacks)\//.test(f));
    const code = (f: string) => readFileSync(path.join(REPO, f), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    expect(generic.filter((f) => named.test(code(f)))).toEqual([]);
  });

  it("the privilege tools are the platforms' (src/inventory/privilege.ts): each platform's is listed, and each listed one is a platform's", () => {
    const used = [...new Set(Object.values(platforms).map((p) => p.become))].sort();
    expect(used).toEqual([...PRIVILEGE_TOOL_NAMES].sort());
    const spelt = files.filter((f) => f !== "src/inventory/privilege.ts" && /["']pfexec["']/.test(readFileSync(path.join(REPO, f), "utf8").replace(/\/\/.*$/gm, "")));
    expect(spelt.filter((f) => !f.startsWith("src/platforms/") && !f.startsWith("src/transports/zlogin.ts"))).toEqual([]);
  });

  it("scripts spell the root prefix only in the builder and the shell helpers", () => {
    const spelled = files.filter((f) => !f.startsWith("src/shell/") && /"\$R"/.test(readFileSync(path.join(REPO, f), "utf8").replace(/\/\/.*$/gm, "")));
    // the spool move's shell functions take host paths (a link's target is one) and read them inside $R
    expect(spelled).toEqual([]);
  });
});
