// Handlebars for config files: no HTML escaping, strict (a missing variable is an error).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "templates");
const hb = Handlebars.create();
const cache = new Map<string, HandlebarsTemplateDelegate>();

/** Renders templates/<role>/<name>.hbs. */
export function renderTemplate(role: string, name: string, data: object): string {
  const key = `${role}/${name}`;
  let tpl = cache.get(key);
  if (!tpl) {
    const source = readFileSync(path.join(TEMPLATES, role, `${name}.hbs`), "utf8");
    tpl = hb.compile(source, { noEscape: true, strict: true });
    cache.set(key, tpl);
  }
  return tpl(data);
}
