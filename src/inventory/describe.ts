// What the inventory allows at a path, read from its JSON Schema (zod's
// public export of the same schema), for error messages: the keys of a
// mapping, the forms of a union.

type Node = Record<string, unknown>;
type Path = (string | number)[];

const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

function options(n: Node): Node[] | undefined {
  const o = n.anyOf ?? n.oneOf;
  return Array.isArray(o) ? o.filter(isNode) : undefined;
}

/** The JSON type of a value, as a schema names it. */
function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

const WORDS: Record<string, string> = { string: "a string", number: "a number", integer: "a whole number", boolean: "true or false", object: "a mapping", array: "a list", null: "null" };

export class SchemaIndex {
  constructor(private readonly root: Node) {}

  private deref(n: Node): Node {
    const ref = n.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/")) return n;
    let cur: unknown = this.root;
    for (const k of ref.slice(2).split("/")) cur = isNode(cur) ? cur[k] : undefined;
    return isNode(cur) ? this.deref(cur) : n;
  }

  /** Of a union's options, the one the value at hand is meant for: its discriminator (`type`) matches, or it has the key. */
  private pick(opts: Node[], value: unknown, key?: string | number): Node | undefined {
    const ds = opts.map((o) => this.deref(o));
    if (isNode(value) && typeof value.type === "string") {
      const byType = ds.find((o) => isNode(o.properties) && isNode(o.properties.type) && o.properties.type.const === value.type);
      if (byType) return byType;
    }
    if (key !== undefined) return ds.find((o) => this.child(o, key, undefined) !== undefined);
    return undefined;
  }

  private child(n: Node, key: string | number, value: unknown): Node | undefined {
    const d = this.deref(n);
    const opts = options(d);
    if (opts) {
      const o = this.pick(opts, value, key);
      return o && this.child(o, key, isNode(value) ? value[key as string] : undefined);
    }
    if (isNode(d.properties) && isNode(d.properties[key as string])) return d.properties[key as string] as Node;
    if (isNode(d.additionalProperties)) return d.additionalProperties;
    if (isNode(d.items) && typeof key === "number") return d.items;
    return undefined;
  }

  /** The schema of the value at `path`; `data` is the document, for choosing among a union's forms. */
  node(path: Path, data: unknown): Node | undefined {
    let n: Node | undefined = this.root;
    let v: unknown = data;
    for (const k of path) {
      if (!n) return undefined;
      n = this.child(n, k, v);
      v = isNode(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[k] : undefined;
    }
    return n && this.deref(n);
  }

  /** Keys a mapping at `path` may have. */
  allowedKeys(path: Path, data: unknown): string[] | undefined {
    let n = this.node(path, data);
    if (!n) return undefined;
    const opts = options(n);
    if (opts) {
      const value = valueAt(data, path);
      const picked = this.pick(opts, value);
      if (picked) n = picked;
      else {
        const keys = new Set<string>();
        for (const o of opts) if (isNode(this.deref(o).properties)) Object.keys(this.deref(o).properties as Node).forEach((k) => keys.add(k));
        return keys.size ? [...keys] : undefined;
      }
    }
    return isNode(n.properties) ? Object.keys(n.properties) : undefined;
  }

  /** The forms a union at `path` takes, in words: "{ env: NAME }, { file: path } or { command: "..." }". */
  forms(path: Path, data: unknown): string | undefined {
    const n = this.node(path, data);
    const opts = n && options(n);
    if (!opts) return undefined;
    const words = opts.map((o) => this.describe(this.deref(o)));
    return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words.at(-1)}` : words[0];
  }

  /** The numbers the value at `path` may be, in words ("a whole number from 1 to 65535"), where the schema bounds them. */
  range(path: Path, data: unknown): string | undefined {
    const n = this.node(path, data);
    if (!n || (n.type !== "integer" && n.type !== "number")) return undefined;
    const kind = WORDS[n.type]!;
    // zod's int() bounds every whole number by the safe integers: no bound a reader wants to see
    const bound = (b: unknown) => (typeof b === "number" && Math.abs(b) < Number.MAX_SAFE_INTEGER ? b : undefined);
    const min = bound(n.minimum);
    const max = bound(n.maximum);
    if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
    if (min !== undefined) return `${kind} >= ${min}`;
    return max !== undefined ? `${kind} <= ${max}` : undefined;
  }

  /** The values a union's discriminator `key` takes (transport.type: local, ssh, zlogin). */
  discriminatorValues(path: Path, data: unknown, key: string): string[] | undefined {
    const n = this.node(path, data);
    const opts = n && options(n);
    const values = opts?.map((o) => this.deref(o)).map((o) => (isNode(o.properties) && isNode(o.properties[key]) ? o.properties[key].const : undefined));
    return values?.every((v) => typeof v === "string") ? (values as string[]) : undefined;
  }

  private describe(o: Node): string {
    if (typeof o.description === "string" && o.description.startsWith("{")) return o.description;
    if (isNode(o.properties)) {
      const props = o.properties;
      const type = isNode(props.type) && typeof props.type.const === "string" ? `type: ${props.type.const}` : undefined;
      const keys = Object.keys(props).filter((k) => k !== "type");
      return `{ ${[type, ...keys.map((k) => `${k}: ...`)].filter(Boolean).join(", ")} }`;
    }
    if ("const" in o) return JSON.stringify(o.const);
    if (Array.isArray(o.enum)) return o.enum.map((e) => JSON.stringify(e)).join(", ");
    if (typeof o.type === "string") return WORDS[o.type] ?? o.type;
    return "another form";
  }

  /** Does `value` have one of the JSON types the schema at `path` accepts? (For a union: a type its forms do not take.) */
  acceptsType(path: Path, data: unknown, value: unknown): boolean {
    const n = this.node(path, data);
    const opts = n && options(n);
    if (!opts) return true;
    const t = jsonType(value);
    return opts.some((o) => {
      const d = this.deref(o);
      return d.type === undefined || d.type === t || (d.type === "number" && t === "integer");
    });
  }
}

export function valueAt(root: unknown, p: Path): unknown {
  let v: unknown = root;
  for (const k of p) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}
