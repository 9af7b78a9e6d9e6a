// Every file of the project that README.md and docs/ name exists, and what
// they call the demo fleet is the inventory `npm run demo` runs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/cli.ts";

const DOCS = ["README.md", ...readdirSync(path.join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const TOP = "(?:examples|docs|src|roles|templates|test|bench|schema|scripts|stacks|bin|\\.ci)";
/** Roles docs/adding-a-role.md walks through adding: they do not exist until a reader writes them. */
const HYPOTHETICAL = ["roles/foo/", "roles/opendkim/", "templates/opendkim/"];
/** What a run makes (the demo's sandbox trees): not there in a fresh clone. */
const GENERATED = ["examples/sandbox/"];

/** Relative links (against the document's folder) and project paths in the text (against the repository). */
function namedPaths(doc: string): string[] {
  const text = readFileSync(path.join(REPO, doc), "utf8");
  const out = new Set<string>();
  for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) if (!/^[a-z]+:/.test(m[1]!)) out.add(path.join(path.dirname(doc), m[1]!));
  for (const m of text.matchAll(new RegExp(`(?<![\\w./-])(${TOP}/[\\w.*<>/-]*[\\w/*])`, "g"))) out.add(m[1]!);
  return [...out].filter((p) => !p.includes("<") && ![...HYPOTHETICAL, ...GENERATED].some((h) => p.startsWith(h)));
}

const segment = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);

/** A path with a `*` (in any segment) names at least one file that matches it. */
function exists(p: string, dir = REPO): boolean {
  const [first, ...rest] = p.split("/").filter(Boolean);
  if (first === undefined) return true;
  if (!first.includes("*")) return existsSync(path.join(dir, first)) && exists(rest.join("/"), path.join(dir, first));
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => segment(first).test(f) && exists(rest.join("/"), path.join(dir, f)));
}

describe("paths named in README.md and docs/", () => {
  it.each(DOCS)("%s: every project path it names exists", (doc) => {
    const paths = namedPaths(doc);
    expect(paths.filter((p) => !exists(p))).toEqual([]);
  });

  it("the demo fleet they name is the one `npm run demo` runs", () => {
    const demo = /DEMO_INVENTORY \?\? "([^"]+)"/.exec(readFileSync(path.join(REPO, "scripts/demo.mjs"), "utf8"))![1]!;
    const wrong: string[] = [];
    for (const doc of DOCS) {
      for (const para of readFileSync(path.join(REPO, doc), "utf8").split(/\n\s*\n/)) {
        if (!/npm run demo|the demo\s+fleet/.test(para)) continue;
        for (const m of para.matchAll(/examples\/[\w.-]+\.yaml/g)) if (m[0] !== demo && !/without/.test(para)) wrong.push(`${doc}: ${m[0]}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
