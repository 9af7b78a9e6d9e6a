// The engine's inventory functions, with the roles handed over first: every
// command reads the inventory before anything else, so it comes through here.
import "./wiring.ts";

export { inventoryJsonSchema, loadInventory } from "../engine/inventory.ts";
export { formatProblem } from "../inventory/errors.ts";
