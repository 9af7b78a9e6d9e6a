// injectShim: the decision from what the host showed: its binary's own
// answer to the From-line check, never a version number.
import { describe, expect, it } from "vitest";
import { hostContext } from "../../src/engine/desired.ts";
import { debian } from "../../src/platforms/debian.ts";
import { shimHandler } from "../../roles/nullmailer/shim.ts";
import type { HostContext } from "../../src/resources/types.ts";
import type { ShimResource } from "../../roles/nullmailer/shim.ts";
import { code } from "../../src/shell/builder.ts";

const real: HostContext = hostContext(debian, "");
const sandbox: HostContext = hostContext(debian, "/tmp/sandbox");
const WRAPPER = "#!/bin/sh\n# wrapper\n";
const shim = (want: ShimResource["want"]): ShimResource => ({
  kind: "shim",
  id: "nullmailer:inject-shim",
  path: "/usr/bin/nullmailer-inject",
  realPath: "/usr/bin/nullmailer-inject.real",
  content: WRAPPER,
  want,
  package: "nullmailer",
  installedBy: "nullmailer:package",
  functions: code("true"),
  check: code("mf_test_check"),
  need: "it loses the headers",
});

const hex = (s: string) => Buffer.from(s).toString("hex").replace(/(..)/g, " $1");
const BINARY = ["f -rwxr-xr-x root root 4", " 7f 45 4c 46"];
const WRAPPED = [`f -rwxr-xr-x root root ${WRAPPER.length}`, hex(WRAPPER)];
const KEEP = "keep: its nullmailer-inject keeps the headers after a leading From line (probed)";
const WRAP = "wrap: its nullmailer-inject loses the headers after a leading From line (probed; fixed in nullmailer 2.1)";
const facts = (bin: string[], realFacts: string[], binCheck = "", realCheck = "") => [
  "@bin",
  ...bin,
  "@real",
  ...realFacts,
  "@check-bin",
  ...(binCheck ? [binCheck] : []),
  "@check-real",
  ...(realCheck ? [realCheck] : []),
];
const diff = (r: ShimResource, lines: string[], ctx = real, changed: string[] = []) => shimHandler.diff(r, lines, ctx, new Set(changed));

describe("injectShim auto: the binary's behaviour decides", () => {
  it("a binary that keeps the headers is left alone, whatever its version", () => {
    expect(diff(shim("auto"), facts(BINARY, ["missing"], KEEP))).toBeNull();
  });

  it("a binary that loses them is wrapped, and the plan says why", () => {
    const c = diff(shim("auto"), facts(BINARY, ["missing"], WRAP));
    expect(c?.action).toBe("wrap");
    expect(c?.summary).toContain("loses the headers after a leading From line (probed; fixed in nullmailer 2.1)");
  });

  it("a check that printed nothing (the binary would not run) wraps: harmless where fixed", () => {
    expect(diff(shim("auto"), facts(BINARY, ["missing"]))?.action).toBe("wrap");
  });

  it("once wrapped, the binary kept at .real decides: still unfixed stays wrapped, fixed is restored", () => {
    expect(diff(shim("auto"), facts(WRAPPED, BINARY, KEEP, WRAP))).toBeNull();
    expect(diff(shim("auto"), facts(WRAPPED, BINARY, KEEP, KEEP))?.action).toBe("unwrap");
  });

  it("a fixed binary that replaced the wrapper: the old .real goes", () => {
    const c = diff(shim("auto"), facts(BINARY, BINARY, KEEP, WRAP));
    expect(c?.action).toBe("delete");
    expect(c?.target).toBe("/usr/bin/nullmailer-inject.real");
  });

  it("the package installs in the same apply: decided by the apply script after the install; installed without the program: nothing to do", () => {
    expect(diff(shim("auto"), facts(["missing"], ["missing"]))).toBeNull();
    for (const c of [diff(shim("auto"), facts(["missing"], ["missing"]), real, ["nullmailer:package"]), diff(shim("auto"), facts(BINARY, ["missing"], KEEP), real, ["nullmailer:package"])]) {
      expect(c?.action).toBe("wrap");
      expect(c?.data).toEqual({ ifNeeded: true });
      expect(c?.summary).toBe("wrap /usr/bin/nullmailer-inject once nullmailer is installed, if it loses the headers");
    }
  });

  it("in a sandbox no program runs: auto leaves the binary alone", () => {
    expect(diff(shim("auto"), facts(BINARY, ["missing"]), sandbox)).toBeNull();
    expect(shimHandler.probe(shim("auto"), sandbox).sh).not.toContain("mf_test_check");
    expect(shimHandler.probe(shim("auto"), real).sh).toContain("mf_test_check");
  });

  it("always and never ignore the check", () => {
    expect(diff(shim("always"), facts(BINARY, ["missing"], KEEP))?.action).toBe("wrap");
    expect(diff(shim("never"), facts(BINARY, ["missing"], WRAP))).toBeNull();
    expect(shimHandler.probe(shim("never"), real).sh).not.toContain("mf_test_check");
  });
});
