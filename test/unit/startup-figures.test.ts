// docs/performance.md shows the start-up figures bench/startup.bench.ts last
// wrote, for each way the README gives to start mailfleet.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/cli.ts";

const results = JSON.parse(readFileSync(path.join(REPO, "bench/startup-results.json"), "utf8")) as { meta: { date: string }; medianMs: Record<string, number>; ratios: Record<string, number> };
const doc = readFileSync(path.join(REPO, "docs/performance.md"), "utf8");

describe("start-up figures", () => {
  it.each([
    ["help", "`mailfleet --help` (installed, or `node bin/mailfleet.js`)"],
    ["validate", "`mailfleet validate` (examples/sandbox-fleet.yaml)"],
    ["npxHelp", "`npx mailfleet --help` (in the checkout)"],
  ])("%s: the row in docs/performance.md is the latest run's", (key, row) => {
    expect(results.medianMs[key]).toBeGreaterThan(0);
    expect(doc).toContain(`| ${row} | ${results.medianMs[key]!.toFixed(1)} ms | ${results.ratios[key]!.toFixed(2)}x |`);
  });

  it("the table names the run's date", () => {
    expect(doc).toContain(`compares medians (${results.meta.date}, Node`);
  });
});
