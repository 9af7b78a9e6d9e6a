import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { inventoryJsonSchema } from "../../src/engine/inventory.ts";
import { REPO } from "../support/cli.ts";

describe("JSON Schema for editors", () => {
  it("schema/inventory.schema.json is what `mailfleet schema` prints (run `npm run schema` after changing the inventory schema)", () => {
    const committed = JSON.parse(readFileSync(path.join(REPO, "schema/inventory.schema.json"), "utf8")) as unknown;
    expect(committed).toEqual(inventoryJsonSchema());
  });

  it("describes the levels and rejects unknown keys", () => {
    const s = inventoryJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(s.properties)).toEqual(["defaults", "groups", "hosts"]);
    expect(s.additionalProperties).toBe(false);
  });
});
