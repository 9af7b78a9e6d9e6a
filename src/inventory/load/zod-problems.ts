// A schema's issues as problems: at the line that sets the value, naming the
// field, what was found and what is allowed there (the keys of the mapping,
// the forms of a union, the values of a discriminator), read from the
// inventory's JSON Schema.
import type { z } from "zod";
import { valueAt, type SchemaIndex } from "../describe.ts";
import { describeIssue, type InventoryProblem } from "../errors.ts";
import { fieldName, type Path } from "./positions.ts";

export interface IssueContext {
  index: SchemaIndex;
  /** Where the validated value sits in the file's document (the schema index is of the whole file). */
  schemaAt: Path;
  /** Where a path of the value is in the file; `field` when it is not `prefix` + the path. */
  locate: (p: Path, keyOfLast: boolean) => { line: number; column: number; field?: string };
  file: string;
  /** The field names of problems start with this. */
  prefix: Path;
}

/** The problems of `data`, which `error` is of. */
export function zodProblems(error: z.ZodError, data: unknown, { index, schemaAt, locate, file, prefix }: IssueContext): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  const where = (p: Path, keyOfLast: boolean) => {
    const l = locate(p, keyOfLast);
    return { line: l.line, column: l.column, field: l.field ?? fieldName([...prefix, ...p]) };
  };
  const doc = (p: Path): Path => [...schemaAt, ...p];
  const wrapped = schemaAt.reduceRight<unknown>((v, k) => ({ [k]: v }), data);
  for (const issue of error.issues) {
    const p = issue.path.map((x) => (typeof x === "symbol" ? String(x) : x)) as Path;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const full = [...p, key];
        out.push({
          file,
          ...where(full, true),
          message: describeIssue({ ...issue, keys: [key] }, undefined, { keys: index.allowedKeys(doc(p), wrapped) }),
        });
      }
      continue;
    }
    let forms: string | undefined;
    if (issue.code === "invalid_union") {
      // a discriminator (transport.type) that matches no form: the values it may take
      const key = p.at(-1);
      const values = typeof key === "string" ? index.discriminatorValues(doc(p.slice(0, -1)), wrapped, key) : undefined;
      forms = index.forms(doc(p), wrapped);
      if (!forms && values) {
        out.push({ file, ...where(p, false), message: describeIssue({ ...issue, code: "invalid_value", values } as z.core.$ZodIssue, valueAt(data, p)) });
        continue;
      }
    }
    out.push({
      file,
      ...where(p, false),
      message: describeIssue(issue, valueAt(data, p), { forms, range: issue.code === "invalid_type" ? index.range(doc(p), wrapped) : undefined }),
    });
  }
  return out;
}
