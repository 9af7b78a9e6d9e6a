import { describe, expect, it } from "vitest";
import { maskRemotes, quoteRemoteArg, renderRemoteLine } from "../../roles/nullmailer/remotes.ts";
import type { SecretResolver } from "../../src/inventory/secrets.ts";
import { nullmailerParse } from "../support/nullmailer-argparse.ts";

const secrets = (v: string): SecretResolver => ({ value: () => v, revealed: () => [v] });

describe("remotes", () => {
  it("renders host, protocol and options", () => {
    expect(renderRemoteLine({ host: "relay.example.org", port: 587, tls: "starttls", auth: { user: "u", password: { env: "X" } } }, secrets("pw"))).toBe(
      "relay.example.org smtp --port=587 --starttls --user=u --pass=pw",
    );
    expect(renderRemoteLine({ host: "10.0.0.1", protocol: "qmqp" }, secrets(""))).toBe("10.0.0.1 qmqp");
    expect(renderRemoteLine({ host: "h", tls: "tls", insecure: true, caFile: "/etc/ssl/ca.pem" }, secrets(""))).toBe(
      "h smtp --ssl --insecure --x509cafile=/etc/ssl/ca.pem",
    );
  });

  it.each([
    "simple",
    "with space",
    "it's",
    `both ' and " quotes`,
    "back\\slash\\",
    "$(touch /tmp/pwned)`id`",
    "ünïcödé ☃",
    "x".repeat(400),
    "''\"\"''",
  ])("quotes %j so nullmailer reads it back unchanged", (pw) => {
    const words = nullmailerParse(`host smtp ${quoteRemoteArg(`--pass=${pw}`)}`);
    expect(words).toEqual(["host", "smtp", `--pass=${pw}`]);
  });

  it("masks passwords in every quoting form", () => {
    for (const pw of ["plain", "with space", "it's", `a"b`]) {
      const line = renderRemoteLine({ host: "h", auth: { user: "u", password: { env: "X" } } }, secrets(pw));
      expect(maskRemotes(line)).toBe("h smtp --user=u --pass=********");
    }
  });
});
