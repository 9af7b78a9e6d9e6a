// Handlebars for config files: no HTML escaping, strict (a missing variable
// is an error). Each role renders the templates of its own folder.
import { readFileSync } from "node:fs";
import Handlebars from "handlebars";

const hb = Handlebars.create();

export interface Templates {
  /** Renders templates/<name>.hbs of the role's folder. */
  render(name: string, data: object): string;
}

/** The templates of the role whose module URL is given (its import.meta.url): <role folder>/templates/. */
export function roleTemplates(moduleUrl: string): Templates {
  const dir = new URL("./templates/", moduleUrl);
  const cache = new Map<string, HandlebarsTemplateDelegate>();
  return {
    render(name, data) {
      let tpl = cache.get(name);
      if (!tpl) {
        tpl = hb.compile(readFileSync(new URL(`${name}.hbs`, dir), "utf8"), { noEscape: true, strict: true });
        cache.set(name, tpl);
      }
      return tpl(data);
    },
  };
}
