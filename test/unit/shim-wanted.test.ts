import { describe, expect, it } from "vitest";
import { FROM_LINE_FIXED_IN } from "../../roles/nullmailer/resources.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { debian } from "../../src/platforms/debian.ts";
import { smartos } from "../../src/platforms/smartos.ts";
import type { Platform } from "../../src/platforms/types.ts";
import { compareVersions, shimHandler, shimWanted } from "../../src/resources/shim.ts";
import type { HostContext, ShimResource } from "../../src/resources/types.ts";

const ctx = (platform: Platform): HostContext => hostContext(platform, "");
const shim = (want: ShimResource["want"]): ShimResource => ({
  kind: "shim",
  id: "nullmailer:inject-shim",
  path: "/usr/bin/nullmailer-inject",
  realPath: "/usr/bin/nullmailer-inject.real",
  content: "#!/bin/sh\n# wrapper\n",
  want,
  package: "nullmailer",
  fixedIn: FROM_LINE_FIXED_IN,
});

describe("compareVersions", () => {
  it.each([
    ["2.0.1", "2.1", -1],
    ["2.1", "2.1", 0],
    ["2.1.0", "2.1", 0],
    ["2.2", "2.1", 1],
    ["2.10", "2.1", 1],
    ["2.10", "2.9", 1],
    ["1.13", "2.1", -1],
  ] as const)("%s vs %s is %i", (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(-want || 0);
  });
});

describe("injectShim auto: wrap only below nullmailer 2.1", () => {
  it.each([
    ["2.0.1", true],
    ["2.0.1-1", true],
    ["1:2.0.1-3+deb9u1", true],
    ["1.13-1.2", true],
    ["2.1", false],
    ["2.1-1", false],
    ["1:2.1-1+b1", false],
    ["2.2", false],
    ["1:2.2-4", false],
    ["1:2.10-1", false],
  ])("Debian %s -> wrap %s", (version, want) => {
    expect(shimWanted(shim("auto"), version, ctx(debian)).want).toBe(want);
  });

  it.each([
    ["2.0.1", true],
    ["2.0.1nb3", true],
    ["2.0.2nb12", true],
    ["2.1", false],
    ["2.1nb1", false],
    ["2.2", false],
    ["2.2nb12", false],
  ])("pkgsrc %s -> wrap %s", (version, want) => {
    expect(shimWanted(shim("auto"), version, ctx(smartos)).want).toBe(want);
  });

  it("says why, with the upstream version", () => {
    expect(shimWanted(shim("auto"), "1:2.2-4", ctx(debian)).why).toBe("nullmailer 2.2 >= 2.1");
    expect(shimWanted(shim("auto"), "2.0.1nb3", ctx(smartos)).why).toBe("nullmailer 2.0.1 < 2.1");
  });

  it("does not wrap when the version is unknown; always and never ignore the version", () => {
    expect(shimWanted(shim("auto"), null, ctx(debian)).want).toBe(false);
    expect(shimWanted(shim("always"), "1:2.2-4", ctx(debian)).want).toBe(true);
    expect(shimWanted(shim("never"), "2.0.1", ctx(debian)).want).toBe(false);
  });
});

describe("shim diff from probe facts", () => {
  const binary = ["f -rwxr-xr-x root root 4", " 7f 45 4c 46"];
  it("auto wraps a 2.0.1 binary and leaves a 2.2 binary alone", () => {
    expect(shimHandler.diff(shim("auto"), ["installed 2.0.1nb3", ...binary, "@real", "missing"], ctx(smartos), new Set())?.action).toBe("wrap");
    expect(shimHandler.diff(shim("auto"), ["installed 1:2.2-4", ...binary, "@real", "missing"], ctx(debian), new Set())).toBeNull();
  });
});
