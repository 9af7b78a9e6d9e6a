import { describe, expect, it } from "vitest";
import { commandHandler } from "../../src/resources/command.ts";
import { debian } from "../../src/platforms/debian.ts";
import type { CommandResource, HostContext } from "../../src/resources/types.ts";
import { hostContext } from "../../src/engine/desired.ts";
import { code } from "../../src/shell/builder.ts";

const ctx: HostContext = hostContext(debian, "");
const r: CommandResource = {
  kind: "command",
  id: "postfix:postmap-sasl_passwd",
  description: "postmap /etc/postfix/sasl_passwd",
  command: code("/usr/sbin/postmap hash:/etc/postfix/sasl_passwd"),
  inputs: ["postfix:sasl_passwd"],
  sources: ["/etc/postfix/sasl_passwd"],
  creates: [{ path: "/etc/postfix/sasl_passwd.db", mode: 0o600, owner: "root", group: "root" }],
};
const db = (mode: string) => [`out f ${mode} root root 12288`];
const none = new Set<string>();

describe("command resource", () => {
  it("does nothing when its output is there, current and 0600", () => {
    expect(commandHandler.diff(r, db("-rw-------"), ctx, none)).toBeNull();
  });

  it("runs when an input changed", () => {
    const c = commandHandler.diff(r, db("-rw-------"), ctx, new Set(["postfix:sasl_passwd"]))!;
    expect(c).toMatchObject({ action: "run", data: { run: true } });
    expect(c.summary).toContain("changed: postfix:sasl_passwd");
    const sh = commandHandler.apply(r, c, ctx).sh;
    expect(sh.indexOf("postmap")).toBeLessThan(sh.indexOf("mf_own /etc/postfix/sasl_passwd.db 0600 root root"));
  });

  it("runs when the output is missing or older than its source (an apply stopped half-way)", () => {
    expect(commandHandler.diff(r, ["out missing"], ctx, none)!.summary).toContain("sasl_passwd.db is missing");
    const stale = commandHandler.diff(r, [...db("-rw-------"), "stale /etc/postfix/sasl_passwd.db /etc/postfix/sasl_passwd"], ctx, none)!;
    expect(stale.action).toBe("run");
    expect(stale.summary).toContain("older than /etc/postfix/sasl_passwd");
  });

  it("only fixes the mode of an output that is current", () => {
    const c = commandHandler.diff(r, db("-rw-r--r--"), ctx, none)!;
    expect(c).toMatchObject({ action: "update", data: { run: false } });
    expect(c.summary).toContain("mode 0644 -> 0600");
    expect(commandHandler.apply(r, c, ctx).sh).not.toContain("postmap");
  });

  it("is listed as skipped under a root prefix", () => {
    const c = commandHandler.diff(r, ["sandbox"], { ...ctx, root: "/tmp/x", sandbox: true }, new Set(["postfix:sasl_passwd"]))!;
    expect(c.action).toBe("skip");
    expect(commandHandler.probe(r, { ...ctx, root: "/tmp/x", sandbox: true }).sh).toBe("echo sandbox");
  });
});
