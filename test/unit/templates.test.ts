// A role's templates are templates/<role>/ at the top of the project, found
// from the role in one hop (roleTemplates("<role>")): every folder there
// belongs to a registered role, every template a role renders is a file
// there, and every file there is rendered by its role.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { roles } from "../../roles/index.ts";
import { REPO } from "../support/cli.ts";

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith(".ts") ? [p] : [];
  });

/** The templates a role's modules render: `roleTemplates("<role>")` and every `templates.render("<name>"`. */
function rendered(role: string): { lookups: string[]; names: string[] } {
  const text = sources(path.join(REPO, "roles", role))
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  return {
    lookups: [...text.matchAll(/roleTemplates\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!),
    names: [...new Set([...text.matchAll(/templates\.render\(\s*"([^"]+)"/g)].map((m) => m[1]!))].sort(),
  };
}

describe("templates/<role>/", () => {
  const folders = readdirSync(path.join(REPO, "templates")).sort();

  it("holds a folder for registered roles only, and roles/ holds no templates", () => {
    expect(folders.filter((f) => !roles.some((r) => r.name === f))).toEqual([]);
    expect(readdirSync(path.join(REPO, "roles")).filter((d) => statSync(path.join(REPO, "roles", d)).isDirectory() && readdirSync(path.join(REPO, "roles", d)).includes("templates"))).toEqual([]);
  });

  it.each(roles.map((r) => r.name))("%s renders only its own templates, each a file, and every file is rendered", (role) => {
    const { lookups, names } = rendered(role);
    expect(lookups.every((l) => l === role), `${role} looks up ${lookups.join(", ")}`).toBe(true);
    const files = folders.includes(role) ? readdirSync(path.join(REPO, "templates", role)).filter((f) => f.endsWith(".hbs")).map((f) => f.slice(0, -4)).sort() : [];
    expect(names).toEqual(files);
  });
});
