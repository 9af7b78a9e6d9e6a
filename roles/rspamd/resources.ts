// rspamd's desired state on one host: local.d overrides only (the package's
// own rspamd.conf includes them), checked with `rspamadm configtest` before
// rspamd is restarted.
import path from "node:path";
import type { FileResource, Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { roleTemplates } from "../templates.ts";
import type { RoleContext, RoleHost } from "../types.ts";
import { mailOf } from "../lib/mail/model.ts";
import type { RspamdData } from "./platforms.ts";
import { SWITCHABLE_MODULES, type rspamdSections } from "./schema.ts";

export const templates = roleTemplates("rspamd");

export const DEFAULT_LISTEN = "127.0.0.1:11333";
export const DEFAULT_MILTER = "127.0.0.1:11332";

/** A UCL string: JSON's quoting is UCL's. */
const ucl = (s: string) => JSON.stringify(s);

/** In the order a growing score reaches them. */
const ACTION_NAMES = { greylist: "greylist", addHeader: "add_header", rewriteSubject: "rewrite_subject", reject: "reject" } as const;

export function rspamdResources(host: RoleHost<typeof rspamdSections>, ctx: RoleContext<RspamdData>): Resource[] {
  const { data: d, secrets } = ctx;
  const cfg = host.rspamd ?? {};
  const localD = path.posix.join(d.localConfDir, "local.d");
  const res: Resource[] = [];
  const files: string[] = [];
  const file = (name: string, content: string | undefined, extra: Partial<FileResource> = {}) => {
    const id = `rspamd:${name}`;
    const base = { kind: "file" as const, id, path: path.posix.join(localD, name), mode: 0o644, owner: "root", group: "root" };
    res.push(content === undefined ? { ...base, content: "", state: "absent" } : { ...base, content, ...extra });
    files.push(id);
  };

  res.push({ kind: "package", id: "rspamd:package", name: d.package, state: "present" });
  res.push({ kind: "directory", id: "rspamd:local.d", path: localD, mode: 0o755, owner: "root", group: "root" });

  const actions = Object.entries(ACTION_NAMES).flatMap(([key, name]) => {
    const v = cfg.actions?.[key as keyof typeof ACTION_NAMES];
    return v === undefined ? [] : [{ name, value: v }];
  });
  file("actions.conf", actions.length ? templates.render("actions.conf", { actions }) : undefined);
  file("worker-normal.inc", templates.render("worker-normal.inc", { bind: ucl(cfg.listen ?? DEFAULT_LISTEN) }));
  file("worker-proxy.inc", templates.render("worker-proxy.inc", { bind: ucl(cfg.milter ?? DEFAULT_MILTER) }));
  const redis = cfg.redis;
  file(
    "redis.conf",
    redis &&
      templates.render("redis.conf", {
        servers: ucl(redis.servers.join(",")),
        password: redis.password ? ucl(secrets.value(redis.password)) : "",
        db: redis.db === undefined ? "" : ucl(String(redis.db)),
      }),
    // the password is the redis server's: readable to rspamd's group only
    redis?.password ? { mode: 0o640, group: d.group, sensitive: true, mask: "rspamd:redis" } : {},
  );
  for (const m of SWITCHABLE_MODULES) {
    if (m === "dkim_signing" && cfg.dkim && !cfg.disable?.includes(m)) continue;
    file(`${m}.conf`, cfg.disable?.includes(m) ? templates.render("module-off.conf", {}) : undefined);
  }
  if (cfg.dkim && !cfg.disable?.includes("dkim_signing")) res.push(...dkimKeys(host, d, file));

  res.push({
    kind: "service",
    id: "rspamd:service",
    name: d.service,
    inputs: files,
    onChange: "restart",
    check: sh`${d.rspamadm} ${`--var=CONFDIR=${d.confDir}`} ${`--var=LOCAL_CONFDIR=${d.localConfDir}`} configtest -c ${path.posix.join(d.confDir, "rspamd.conf")} >/dev/null`,
  });
  return res;
}

export const DEFAULT_DKIM_SELECTOR = "mf1";

/** The DER of a PKCS#8 Ed25519 private key up to its 32-byte seed, as printf octal escapes. */
const ED25519_PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");

/** The keys of each signed domain, generated on the host, and dkim_signing.conf naming them. */
function dkimKeys(host: RoleHost<typeof rspamdSections>, d: RspamdData, file: (name: string, content: string) => void): Resource[] {
  const cfg = host.rspamd!.dkim!;
  const selector = cfg.selector ?? DEFAULT_DKIM_SELECTOR;
  const domains = cfg.domains ?? mailOf(host.mail).domains.map((m) => m.name);
  const kinds = [
    {
      selector,
      algorithm: "RSA 2048",
      generate: sh`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"`,
      publicHalf: sh`mf_p=$(openssl pkey -in "$1" -pubout -outform DER | openssl base64 -A) && printf 'v=DKIM1; k=rsa; p=%s\n' "$mf_p"`,
    },
    ...(cfg.ed25519
      ? [
          {
            selector: `${selector}e`,
            algorithm: "Ed25519",
            // rspamd 3.4 reads an Ed25519 signing key only raw: the 32-byte seed in base64 (a PEM key it takes for RSA and refuses)
            generate: sh`openssl genpkey -algorithm ed25519 -out "$1.pem" && openssl pkey -in "$1.pem" -outform DER | tail -c 32 | openssl base64 -A > "$1"`,
            // RFC 8463: p= is the 32 bytes of the raw public key; openssl derives it from the seed put back in its PKCS#8 frame
            publicHalf: sh`mf_p=$({ printf ${ED25519_PKCS8_PREFIX}; openssl base64 -d -A < "$1"; } | openssl pkey -inform DER -pubout -outform DER | tail -c 32 | openssl base64 -A) && printf 'v=DKIM1; k=ed25519; p=%s\n' "$mf_p"`,
          },
        ]
      : []),
  ];
  const keyPath = (domain: string, sel: string) => path.posix.join(d.dkimDir, `${domain}.${sel}.key`);
  const out: Resource[] = [{ kind: "directory", id: "rspamd:dkim-dir", path: d.dkimDir, mode: 0o750, owner: "root", group: d.group }];
  for (const domain of domains) {
    for (const k of kinds) {
      out.push({
        kind: "generatedKey",
        id: `rspamd:dkim:${domain}:${k.selector}`,
        path: keyPath(domain, k.selector),
        // rspamd's workers read it; nobody else
        mode: 0o640,
        owner: "root",
        group: d.group,
        description: `DKIM key of ${domain}, selector ${k.selector} (${k.algorithm}); its TXT record: ${k.selector}._domainkey.${domain}`,
        generate: k.generate,
        publicHalf: k.publicHalf,
      });
    }
  }
  file(
    "dkim_signing.conf",
    templates.render("dkim_signing.conf", {
      domains: domains.map((domain) => ({ name: ucl(domain), selectors: kinds.map((k) => ({ selector: ucl(k.selector), path: ucl(keyPath(domain, k.selector)) })) })),
    }),
  );
  return out;
}

/** Masks the redis password in diffs. */
export function maskRedisConf(text: string): string {
  return text.replace(/^(\s*password\s*=\s*).*$/gm, "$1********;");
}
