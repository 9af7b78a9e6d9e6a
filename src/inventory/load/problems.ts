// How the loader's checks hand back what they found, and the order problems
// are reported in.
import { InventoryError, type InventoryProblem } from "../errors.ts";

/** What a check that yields a value gives: the value it let through, or the problems that stop it. */
export type Checked<T> = { value: T; problems?: undefined } | { problems: InventoryProblem[]; value?: undefined };

/** The value of a check, or an InventoryError with its problems: the inventory is not read further. */
export function accepted<T>(c: Checked<T>): T {
  if (c.problems) throw new InventoryError(c.problems);
  return c.value;
}

/** Nothing found, or an InventoryError with what was: the inventory is not read further. */
export function refuseAny(problems: InventoryProblem[]): void {
  if (problems.length > 0) throw new InventoryError(problems);
}

/** In file order (line, then column); problems at one place keep the order they were found in. */
export function inFileOrder(problems: InventoryProblem[]): InventoryProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Each problem once, where it was last found (a fleet-level rule of two roles may find the same thing twice). */
export function withoutRepeats(problems: InventoryProblem[]): InventoryProblem[] {
  const seen = new Set<string>();
  return problems
    .reduceRight<InventoryProblem[]>((kept, p) => {
      const key = JSON.stringify(p);
      if (!seen.has(key)) kept.push(p);
      seen.add(key);
      return kept;
    }, [])
    .reverse();
}
