import { isSecretRef } from "./secret-refs.ts";

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * defaults < group < host: mappings merge key by key, everything else
 * (lists included) is replaced by the more specific level. A transport of
 * another type replaces the whole transport rather than mixing keys, and a
 * secret reference ({ env }, { file } or { command }) replaces whatever a
 * less specific level set there: { file } in defaults and { env } in a host
 * is the host's { env }, never both.
 */
export function mergeSettings(...levels: (Plain | null | undefined)[]): Plain {
  let out: Plain = {};
  for (const level of levels) if (level) out = mergeTwo(out, level);
  return out;
}

function mergeTwo(a: Plain, b: Plain): Plain {
  const out: Plain = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    if (isPlain(prev) && isPlain(value) && !isSecretRef(value) && !("type" in value && prev.type !== value.type)) {
      out[key] = mergeTwo(prev, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}
