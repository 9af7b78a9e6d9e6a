// Handlebars for config files: no HTML escaping, strict (a missing variable
// is an error). Each role renders the templates of its own folder. The
// compiled CLI ships them precompiled (<name>.hbs.cjs, see scripts/build.mjs)
// and loads only Handlebars' runtime; from the sources they are compiled here.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type HandlebarsType from "handlebars";

const require = createRequire(import.meta.url);
type Handlebars = typeof HandlebarsType;
let runtime: Handlebars | undefined;
let compiler: Handlebars | undefined;

export const TEMPLATE_OPTIONS = { noEscape: true, strict: true } as const;

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
        const precompiled = fileURLToPath(new URL(`${name}.hbs.cjs`, dir));
        if (existsSync(precompiled)) {
          runtime ??= (require("handlebars/runtime") as { default: Handlebars }).default.create();
          tpl = runtime.template(require(precompiled) as TemplateSpecification);
        } else {
          compiler ??= (require("handlebars") as Handlebars).create();
          tpl = compiler.compile(readFileSync(new URL(`${name}.hbs`, dir), "utf8"), TEMPLATE_OPTIONS);
        }
        cache.set(name, tpl);
      }
      return tpl(data);
    },
  };
}
