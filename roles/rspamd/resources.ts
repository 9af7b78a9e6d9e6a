// rspamd's desired state on one host: local.d overrides only (the package's
// own rspamd.conf includes them), checked with `rspamadm configtest` before
// rspamd is restarted.
import path from "node:path";
import type { FileResource, Resource } from "../../src/resources/types.ts";
import { sh } from "../../src/shell/builder.ts";
import { roleTemplates } from "../templates.ts";
import type { RoleContext, RoleHost } from "../types.ts";
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
  for (const m of SWITCHABLE_MODULES) file(`${m}.conf`, cfg.disable?.includes(m) ? templates.render("module-off.conf", {}) : undefined);

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

/** Masks the redis password in diffs. */
export function maskRedisConf(text: string): string {
  return text.replace(/^(\s*password\s*=\s*).*$/gm, "$1********;");
}
