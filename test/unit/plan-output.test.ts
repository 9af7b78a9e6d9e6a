// What plan prints per host: a host with nothing to do is one line; the
// steps a sandbox skips are listed where there is work, counted where not.
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { formatPlan } from "../../src/cli/report.ts";
import type { HostPlan } from "../../src/engine/plan.ts";
import type { Change } from "../../src/resources/types.ts";

const skip = (what: string): Change => ({ id: what, kind: "package", action: "skip", target: what, summary: `install package ${what}: skipped under a root prefix (no package or service manager in a sandbox)` });
const plan = (p: Partial<HostPlan>): HostPlan => ({ host: "web1", transport: "local:sandbox/web1", platform: "smartos", facts: "", changes: [], skipped: [], kept: [], ...p });
const text = (p: HostPlan) => stripVTControlCharacters(formatPlan(p, []));

describe("a host's plan as printed", () => {
  it("converged: one line saying no changes, the skipped steps only counted", () => {
    expect(text(plan({ skipped: [skip("nullmailer"), skip("postfix")] }))).toBe("web1 (smartos, local:sandbox/web1, 2 steps skipped under a root prefix): no changes");
    expect(text(plan({}))).toBe("web1 (smartos, local:sandbox/web1): no changes");
  });

  it("converged but keeping something on purpose: that is still listed", () => {
    const kept: Change = { id: "m", kind: "directory", action: "keep", target: "/var/vmail/x", summary: "keep /var/vmail/x (mailbox no longer in the inventory)" };
    expect(text(plan({ kept: [kept] })).split("\n")).toEqual(["web1 (smartos, local:sandbox/web1): no changes", "  = keep /var/vmail/x (mailbox no longer in the inventory)"]);
  });

  it("with changes: each change, then each skipped step, then the counts", () => {
    const create: Change = { id: "f", kind: "file", action: "create", target: "/etc/x", summary: "create /etc/x (0644)", diff: "+a" };
    expect(text(plan({ changes: [create], skipped: [skip("nullmailer")] })).split("\n")).toEqual([
      "web1 (smartos, local:sandbox/web1)",
      "  + create /etc/x (0644)",
      "      +a",
      "  · install package nullmailer: skipped under a root prefix (no package or service manager in a sandbox)",
      "  1 to add, 0 to change, 0 to remove",
    ]);
  });
});
