// Reading and writing plan files (`mailfleet plan --out FILE`, `apply FILE`,
// `show FILE`); the document itself is src/engine/saved-plan.ts.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Inventory } from "../inventory/catalog.ts";
import type { HostPlan } from "../engine/plan.ts";
import { checkPlanOrigin, parsePlan, PlanFileError, savedPlan, serializePlan, type SavedPlan } from "../engine/saved-plan.ts";
// a plan names the resource kinds of the roles (a spool move): they are known once the roles are handed over
import "./wiring.ts";

export { PlanFileError };

/** The inventory's path as a plan records it: relative to where mailfleet runs, with forward slashes. */
function recordedPath(file: string): string {
  return path.relative(process.cwd(), path.resolve(file)).split(path.sep).join("/") || file;
}

export interface PlanFileInput {
  version: { version: string; build: string };
  inventoryFile: string;
  inventory: Inventory;
  limit: readonly string[];
  plans: readonly HostPlan[];
  desired: ReadonlyMap<string, string>;
  secrets: readonly string[];
}

/** The plan document for what was planned now. */
export function planDocument(i: PlanFileInput): SavedPlan {
  return savedPlan({
    version: i.version,
    inventory: { file: recordedPath(i.inventoryFile), bytes: readFileSync(i.inventory.file) },
    limit: i.limit.flatMap((l) => l.split(",")).map((l) => l.trim()).filter(Boolean),
    plans: i.plans,
    desired: i.desired,
    secrets: i.secrets,
    now: new Date(),
  });
}

/** Writes the plan beside FILE and renames it into place, so a reader never finds half a plan. */
export function writePlanFile(file: string, i: PlanFileInput): SavedPlan {
  const doc = planDocument(i);
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, serializePlan(doc), { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new PlanFileError(`cannot write the plan to ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return doc;
}

export function readPlanFile(file: string): SavedPlan {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new PlanFileError(`cannot read the plan ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parsePlan(text, file);
}

/** Refuses a plan made by another mailfleet or from another inventory than the one loaded now. */
export function checkOrigin(doc: SavedPlan, file: string, inventoryFile: string, inventory: Inventory, version: { version: string; build: string }): void {
  checkPlanOrigin(doc, file, {
    version,
    inventory: { file: recordedPath(inventoryFile), bytes: readFileSync(inventory.file) },
    hosts: inventory.hosts.map((h) => h.name),
  });
}
