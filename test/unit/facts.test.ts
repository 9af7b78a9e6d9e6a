import { describe, expect, it } from "vitest";
import { parseMode, parsePathFacts } from "../../src/resources/facts.ts";

describe("parsePathFacts", () => {
  it("takes a link's target as printed by mf_link_target, even when it holds ' -> '", () => {
    const f = parsePathFacts(["l lrwxrwxrwx root root 12", "T /home/a -> b/queue"]);
    expect(f).toMatchObject({ type: "link", linkTarget: "/home/a -> b/queue", owner: "root" });
  });

  it("reads a file's hex dump and a missing path", () => {
    expect(parsePathFacts(["f -rw------- mail mail 3", " 68 69", " 0a"]).content?.toString()).toBe("hi\n");
    expect(parsePathFacts(["missing"]).type).toBe("missing");
    expect(parsePathFacts([]).type).toBe("missing");
  });

  it("parses modes with special bits", () => {
    expect(parseMode("prw--w--w-")).toBe(0o622);
    expect(parseMode("drwxr-s--T")).toBe(0o3750);
    expect(parseMode("-rwsr-xr-x")).toBe(0o4755);
  });
});
