// A private key generated on the host (a DKIM or TLS key): created once by
// the role's command, kept across applies, never read off the host. The
// probe prints only what stat says (presence, type, mode, owner; not the
// size) and the public half the role's command derives on the host; the
// facts hash of a saved plan covers exactly that, nothing computed from the
// private half but the public half, which is public by design.
import { createHash } from "node:crypto";
import { hostPath, join, mode, sh } from "../shell/builder.ts";
import { modeString, parsePathFacts, typeConflict } from "./facts.ts";
import { metaDrift, ownerWanted } from "./file.ts";
import type { Change, GeneratedKeyResource, PublicKeyFact, ResourceHandler } from "./types.ts";

/** A public half longer than this is not published (an RSA-16384 public key is 2.8 KiB in PEM). */
const PUBLIC_MAX = 16 * 1024;

const PROBLEMS: Record<string, string> = {
  empty: "its public half command printed nothing",
  private: "its public half command printed what looks like the private key (refused on the host, not printed)",
};

interface KeyFacts {
  head: ReturnType<typeof parsePathFacts>;
  leftover: boolean;
  public: string | null;
  problem?: string;
}

function keyFacts(lines: string[]): KeyFacts {
  const head = parsePathFacts(lines.slice(0, 1));
  const leftover = lines.includes("leftover");
  const fail = lines.find((l) => l.startsWith("pubfail "))?.slice(8);
  if (head.type !== "file") return { head, leftover, public: null };
  if (fail !== undefined) return { head, leftover, public: null, problem: PROBLEMS[fail] ?? `its public half command failed (${fail})` };
  const pub = lines.filter((l) => l.startsWith("pub ")).map((l) => l.slice(4)).join("\n");
  if (pub.length > PUBLIC_MAX) return { head, leftover, public: null, problem: `its public half is longer than ${PUBLIC_MAX / 1024} KiB` };
  return { head, leftover, public: pub };
}

/** SHA-256 of the DER inside a single PEM block, else of the text. */
function publicSha256(pub: string): string {
  const m = /^-----BEGIN ([A-Z0-9 ]+)-----\n([A-Za-z0-9+/=\n]+)\n-----END \1-----$/.exec(pub.trim());
  const bytes = m ? Buffer.from(m[2]!.replace(/\n/g, ""), "base64") : Buffer.from(pub, "utf8");
  return createHash("sha256").update(bytes).digest("hex");
}

export const generatedKeyHandler: ResourceHandler<GeneratedKeyResource> = {
  statPaths: (r) => [r.path],
  probe: (r) => join([sh`mf_keypub() {\n${r.publicHalf}\n}`, sh`mf_probe_key ${hostPath(r.path)}`]),

  diff(r, lines, ctx): Change | null {
    const f = keyFacts(lines);
    const base = { id: r.id, kind: "generatedKey" as const, target: r.path };
    if (f.head.type === "missing") {
      const { owner, group } = ownerWanted(r, ctx);
      const meta = `${modeString(r.mode)}${owner ? ` ${owner}:${group || owner}` : ""}`;
      return { ...base, action: "create", summary: `generate ${r.path} (${meta}): ${r.description}, a new private key made on the host` };
    }
    if (f.head.type !== "file") return typeConflict(r, r.path, f.head, `a private key generated on the host (${r.description})`);
    const drift = metaDrift(r, f.head, ctx);
    const temp = `the temporary directory an interrupted key generation left beside ${r.path}`;
    const fixes = [...(drift.length ? [`${drift.join(", ")}`] : []), ...(f.leftover ? [`remove ${temp}`] : [])];
    if (fixes.length) {
      const why = f.problem ? `; ${f.problem}` : "";
      return { ...base, action: "update", summary: `update ${r.path} (${fixes.join("; ")})${why}`, data: { own: drift.length > 0, clean: f.leftover } };
    }
    if (f.problem) {
      return { ...base, action: "keep", summary: `keep ${r.path} (${r.description}): ${f.problem}; a key is never replaced: move it away to have a new one generated` };
    }
    return null;
  },

  apply(r, change, ctx) {
    const { owner, group } = ownerWanted(r, ctx);
    const clean = change.data?.clean ? sh`mf_genkey_clean ${r.path}` : undefined;
    if (change.action === "create") {
      return join([
        sh`mf_keygen() {\n${r.generate}\n}`,
        sh`mf_genkey ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot generate ${r.path} (${r.description})`}`,
      ]);
    }
    return join([clean, change.data?.own ? sh`mf_own ${r.path} ${mode(r.mode)} ${owner} ${group} || mf_fail ${`cannot set mode/owner of ${r.path}`}` : undefined]);
  },

  publicKey(r, lines): PublicKeyFact {
    const f = keyFacts(lines);
    const present = f.head.type === "file";
    return {
      id: r.id,
      path: r.path,
      description: r.description,
      present,
      public: f.public,
      sha256: f.public === null ? null : publicSha256(f.public),
      ...(f.problem ? { problem: f.problem } : {}),
    };
  },
};
