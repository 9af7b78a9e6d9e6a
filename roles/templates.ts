// Handlebars for config files: no HTML escaping, strict (a missing variable
// is an error). A role's templates are templates/<role>/ at the top of the
// project, found from the role's name in one hop. The compiled CLI ships them
// precompiled (dist/templates/<role>/<name>.hbs.cjs, see scripts/build.mjs)
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
  /** Renders templates/<role>/<name>.hbs. */
  render(name: string, data: object): string;
}

/** Where the templates of every role live: templates/ beside roles/ (in the compiled CLI, dist/templates/). */
export const TEMPLATES_DIR = new URL("../templates/", import.meta.url);

/** The templates of the role named `role`: templates/<role>/. */
export function roleTemplates(role: string): Templates {
  const dir = new URL(`./${role}/`, TEMPLATES_DIR);
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
