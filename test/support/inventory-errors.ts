// The message of the InventoryError that `run` throws (the inventory's
// problems, each at file:line); fails when it throws none.
import { InventoryError } from "../../src/inventory/errors.ts";

export function inventoryErrors(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof InventoryError) return e.message;
    throw e;
  }
  throw new Error("the inventory was accepted");
}
