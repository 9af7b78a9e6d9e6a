// The generatedKey resource without a host: what each probed state plans,
// what the apply does about it (generate only when missing, otherwise mode
// and owner), and what the plan publishes of it (the public half and its
// SHA-256, never anything read from the private half).
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkDesired, hostContext } from "../../src/engine/desired.ts";
import { publicKeysOf } from "../../src/engine/plan.ts";
import { debian } from "../../src/platforms/debian.ts";
import { generatedKeyHandler as handler } from "../../src/resources/generated-key.ts";
import type { GeneratedKeyResource, HostContext, Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";

const real: HostContext = hostContext(debian, "");
const sandbox: HostContext = hostContext(debian, "/srv/sandbox");
const key: GeneratedKeyResource = {
  kind: "generatedKey",
  id: "dkim:mail",
  path: "/etc/dkim/mail.key",
  description: "DKIM key of selector mail (RSA 2048)",
  mode: 0o600,
  owner: "root",
  group: "root",
  generate: sh`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"`,
  publicHalf: sh`openssl pkey -in "$1" -pubout`,
};
const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
/** What mf_probe_key prints for the key with this mode, the public half on pub lines. */
const present = (mode = "-rw-------", group = "root", pub = publicKey) => [`f ${mode} root ${group} 0`, ...pub.trimEnd().split("\n").map((l) => `pub ${l}`)];
const none = new Set<string>();

describe("generatedKey: the plan", () => {
  it("generates a missing key, naming its mode and owner (not under a root prefix)", () => {
    expect(handler.diff(key, ["missing"], real, none)).toEqual({
      id: "dkim:mail",
      kind: "generatedKey",
      target: "/etc/dkim/mail.key",
      action: "create",
      summary: "generate /etc/dkim/mail.key (0600 root:root): DKIM key of selector mail (RSA 2048), a new private key made on the host",
    });
    expect(handler.diff(key, ["missing"], sandbox, none)!.summary).toBe("generate /etc/dkim/mail.key (0600): DKIM key of selector mail (RSA 2048), a new private key made on the host");
  });

  it("leaves a key that is there alone; a wrong mode or group is fixed, never by generating another", () => {
    expect(handler.diff(key, present(), real, none)).toBeNull();
    const c = handler.diff(key, present("-rw-r--r--", "mail"), real, none)!;
    expect(c).toMatchObject({ action: "update", summary: "update /etc/dkim/mail.key (mode 0644 -> 0600, group mail -> root)", data: { own: true, clean: false } });
    const script = handler.apply(key, c, real).sh;
    expect(script).toBe("mf_own /etc/dkim/mail.key 0600 root root || mf_fail 'cannot set mode/owner of /etc/dkim/mail.key'");
    // under a root prefix the owner is not managed
    expect(handler.diff(key, present("-rw-------", "mail"), sandbox, none)).toBeNull();
  });

  it("removes what an interrupted generation left beside the key", () => {
    const c = handler.diff(key, [...present(), "leftover"], real, none)!;
    expect(c.summary).toBe("update /etc/dkim/mail.key (remove the temporary directory an interrupted key generation left beside /etc/dkim/mail.key)");
    expect(handler.apply(key, c, real).sh).toBe("mf_genkey_clean /etc/dkim/mail.key");
  });

  it("keeps, and says why, a key whose public half cannot be derived; a key is never replaced", () => {
    for (const [fail, why] of [
      ["exit 1", "its public half command failed (exit 1)"],
      ["empty", "its public half command printed nothing"],
      ["private", "its public half command printed what looks like the private key (refused on the host, not printed)"],
    ]) {
      const c = handler.diff(key, ["f -rw------- root root 0", `pubfail ${fail}`], real, none)!;
      expect(c).toEqual({
        id: "dkim:mail",
        kind: "generatedKey",
        target: "/etc/dkim/mail.key",
        action: "keep",
        summary: `keep /etc/dkim/mail.key (DKIM key of selector mail (RSA 2048)): ${why}; a key is never replaced: move it away to have a new one generated`,
      });
    }
    // its mode is still fixed
    expect(handler.diff(key, ["f -rw-rw-rw- root root 0", "pubfail exit 1"], real, none)!.summary).toBe(
      "update /etc/dkim/mail.key (mode 0666 -> 0600); its public half command failed (exit 1)",
    );
  });

  it("refuses the host when something else is at the key's path", () => {
    const c = handler.diff(key, ["d drwx------ root root 0"], real, none)!;
    expect(c.conflict).toBe("/etc/dkim/mail.key is a directory, but dkim:mail manages a private key generated on the host (DKIM key of selector mail (RSA 2048)) there; mailfleet does not replace it: move it away, then apply again");
  });
});

describe("generatedKey: the scripts", () => {
  it("the probe defines the role's public half command and runs it through mf_probe_key, inside the root prefix", () => {
    expect(handler.probe(key, sandbox).sh).toBe(`mf_keypub() {\nopenssl pkey -in "$1" -pubout\n}\nmf_probe_key "$R"/etc/dkim/mail.key`);
  });

  it("the apply generates through mf_genkey with the role's command, mode and owner (none under a root prefix)", () => {
    const create = handler.diff(key, ["missing"], real, none)!;
    expect(handler.apply(key, create, real).sh).toBe(
      `mf_keygen() {\nopenssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"\n}\nmf_genkey /etc/dkim/mail.key 0600 root root || mf_fail 'cannot generate /etc/dkim/mail.key (DKIM key of selector mail (RSA 2048))'`,
    );
    expect(handler.apply(key, create, sandbox).sh).toContain("mf_genkey /etc/dkim/mail.key 0600 '' '' ||");
  });
});

describe("generatedKey: what the plan publishes", () => {
  it("the public half as printed and the SHA-256 of its DER (the SubjectPublicKeyInfo, as TLSA 3 1 1 pins it)", () => {
    const spki = createPublicKey(publicKey).export({ type: "spki", format: "der" });
    expect(handler.publicKey!(key, present())).toEqual({
      id: "dkim:mail",
      path: "/etc/dkim/mail.key",
      description: "DKIM key of selector mail (RSA 2048)",
      present: true,
      public: publicKey.trimEnd(),
      sha256: createHash("sha256").update(spki).digest("hex"),
    });
  });

  it("a value derived from it (a DKIM record) with the SHA-256 of its text; nothing for a missing key, the reason for a failed one", () => {
    const record = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    expect(handler.publicKey!(key, ["f -rw------- root root 0", `pub ${record}`])).toMatchObject({ public: record, sha256: createHash("sha256").update(record).digest("hex") });
    expect(handler.publicKey!(key, ["missing"])).toMatchObject({ present: false, public: null, sha256: null });
    expect(handler.publicKey!(key, ["f -rw------- root root 0", "pubfail private"])).toMatchObject({ present: true, public: null, problem: expect.stringContaining("looks like the private key") });
    expect(handler.publicKey!(key, ["f -rw------- root root 0", ...Array(300).fill(`pub ${"A".repeat(64)}`)])).toMatchObject({ public: null, problem: "its public half is longer than 16 KiB" });
  });

  it("publicKeysOf lists the generated keys of a desired state, in order, and nothing else", () => {
    const other = { ...key, id: "tls:key", path: "/etc/tls/key.pem" };
    const resources: Resource[] = [key, { kind: "directory", id: "d", path: "/etc/dkim", mode: 0o750 }, other];
    const facts = new Map([
      ["dkim:mail", present()],
      ["tls:key", ["missing"]],
    ]);
    expect(publicKeysOf(resources, facts).map((k) => [k.id, k.present])).toEqual([
      ["dkim:mail", true],
      ["tls:key", false],
    ]);
  });
});

describe("generatedKey in the desired state", () => {
  it("is refused when others than its owner and group could read it", () => {
    expect(() => checkDesired("mx1", [{ ...key, mode: 0o644 }])).toThrow("mx1: dkim:mail: a file holding a secret is 0600, or 0640 to a group, at most; 0644 lets others read or change it");
    expect(() => checkDesired("mx1", [{ ...key, mode: 0o640, group: "_rspamd" }])).not.toThrow();
  });
});
