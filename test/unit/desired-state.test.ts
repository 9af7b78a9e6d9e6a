// What desiredState refuses before anything is probed: a trigger naming no
// resource (a typo would silently disable a restart or a postmap), a mask no
// role provides, an id or a path claimed twice.
import { describe, expect, it } from "vitest";
import { checkDesired, DesiredStateError } from "../../src/engine/desired.ts";
import type { Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";

const file: Resource = { kind: "file", id: "r:main.cf", path: "/etc/r/main.cf", content: "x\n", mode: 0o644 };
const check = (rs: Resource[]) => () => checkDesired("h1", rs);

describe("desired state checks", () => {
  it("accepts triggers that name resources of the host", () => {
    expect(check([file, { kind: "service", id: "r:svc", name: "r", inputs: ["r:main.cf"], onChange: "reload" }])).not.toThrow();
  });

  it("refuses a service, command or parked-mail input that names no resource", () => {
    expect(check([file, { kind: "service", id: "r:svc", name: "r", inputs: ["r:mian.cf"], onChange: "reload" }])).toThrow(
      new DesiredStateError("h1: r:svc is triggered by r:mian.cf, which is not a resource of this host"),
    );
    expect(
      check([file, { kind: "command", id: "r:postmap", description: "postmap", command: sh`true`, inputs: ["r:sasl"], sources: [], creates: [] }]),
    ).toThrow(/r:postmap is triggered by r:sasl, which is not a resource of this host/);
    expect(check([{ kind: "parkedMail", id: "r:deliver", parking: "/var/spool/p", inputs: ["r:replace-x"], sendmail: ["/usr/sbin/sendmail"] }])).toThrow(
      /r:deliver is triggered by r:replace-x/,
    );
  });

  it("refuses a mask no role provides, an id twice, a path twice", () => {
    expect(check([{ ...file, mask: "r:nosuch" } as Resource])).toThrow(/names mask r:nosuch, which no role provides/);
    expect(check([file, { ...file, path: "/etc/r/other" } as Resource])).toThrow(/resource r:main.cf is defined twice/);
    expect(check([file, { ...file, id: "r:other" } as Resource])).toThrow(/\/etc\/r\/main.cf is managed by both r:main.cf and r:other/);
  });
});
