// nullmailer's desired state on one host.
import path from "node:path";
import type { Resource } from "../../src/resources/types.ts";
import { code } from "../../src/shell/builder.ts";
import { shq } from "../../src/shell/quote.ts";
import { mtaSwitch } from "../lib/mta/handover.ts";
import { KNOWN_PERSISTENT_SPOOLS } from "./orphaned-spool.ts";
import { roleTemplates } from "../templates.ts";
import type { RoleContext, RoleHost } from "../types.ts";
import type { NullmailerData } from "./platforms.ts";
import { nullmailerQueue } from "./queue.ts";
import { renderRemoteLine } from "./remotes.ts";
import type { nullmailerSections } from "./schema.ts";

export const templates = roleTemplates("nullmailer");

/**
 * nullmailer 2.1 fixed the leading "From " line bug (commit babec3b; PR #39,
 * which proposed it first, was closed unmerged), and pkgsrc patched the fix
 * into 1.13nbN: only the binary can tell. Asked to format (-n, nothing is
 * queued) a message whose first line is "From x", a fixed nullmailer-inject
 * keeps "Subject: probe" among the headers; an unfixed one ends the headers
 * at the From line and prints Subject in the body.
 */
const FROM_LINE_CHECK = code(`mf_nm_from_line() {
  mf_o=$(printf 'From x\\nSubject: probe\\n\\n' | "$1" -n -a probe@example.org 2>/dev/null) || { echo "wrap: $1 -n failed (exit $?)"; return 0; }
  if printf '%s\\n' "$mf_o" | awk 'NF == 0 { exit } /^Subject: probe/ { f = 1 } END { exit !f }'; then
    echo "keep: its nullmailer-inject keeps the headers after a leading From line (probed)"
  else
    echo "wrap: its nullmailer-inject loses the headers after a leading From line (probed; fixed in nullmailer 2.1)"
  fi
}`);

const SINGLE_VALUE_FILES = [
  "defaultdomain",
  "defaulthost",
  "idhost",
  "helohost",
  "allmailfrom",
  "pausetime",
  "maxpause",
  "sendtimeout",
  "queuelifetime",
] as const;

export function nullmailerResources(host: RoleHost<typeof nullmailerSections>, ctx: RoleContext<NullmailerData>): Resource[] {
  const { data: nm, secrets } = ctx;
  const cfg = host.nullmailer ?? {};
  const relay = host.relay!;
  const conf = (name: string) => path.posix.join(nm.confDir, name);
  const res: Resource[] = [];
  const serviceInputs: string[] = [];
  const configFile = (id: string, p: string, content: string | undefined, mode = 0o644, owner = "root", group = "root") => {
    res.push(
      content === undefined
        ? { kind: "file", id, path: p, content: "", mode, owner, group, state: "absent" }
        : { kind: "file", id, path: p, content, mode, owner, group },
    );
    serviceInputs.push(id);
  };

  // Other MTAs' queues are parked before nullmailer's package (on Debian installing it removes them) and delivered once nullmailer runs.
  const replaced = ctx.otherMtas.filter((q) => !(q.mta === "postfix" && cfg.removePostfix === false));
  const handover = replaced.length ? mtaSwitch(ctx.platform, nullmailerQueue(nm), replaced, "nullmailer") : undefined;
  if (handover) res.push(...handover.park);
  res.push({ kind: "package", id: "nullmailer:package", name: nm.package, state: "present" });
  if (cfg.persistentSpoolDataset && cfg.persistentSpool) {
    res.push({ kind: "zfsDataset", id: "nullmailer:dataset", dataset: cfg.persistentSpoolDataset, mountpoint: cfg.persistentSpool });
  }
  res.push({ kind: "directory", id: "nullmailer:confdir", path: nm.confDir, mode: 0o755, owner: "root", group: "root" });

  res.push({
    kind: "file",
    id: "nullmailer:remotes",
    path: conf("remotes"),
    content: templates.render("remotes", { fqdn: host.fqdn, remotes: [renderRemoteLine(relay, secrets)] }),
    mode: 0o600,
    owner: nm.user,
    group: nm.group,
    sensitive: relay.auth !== undefined,
    mask: "nullmailer:remotes",
  });
  serviceInputs.push("nullmailer:remotes");
  configFile("nullmailer:adminaddr", conf("adminaddr"), host.adminaddr && `${host.adminaddr}\n`);
  configFile("nullmailer:me", nm.meFile, `${cfg.me ?? host.fqdn}\n`);
  for (const key of SINGLE_VALUE_FILES) {
    const v = cfg[key];
    configFile(`nullmailer:${key}`, conf(key), v === undefined ? undefined : `${v}\n`);
  }

  const spoolDirs = ["queue", "tmp", "failed"];
  res.push({ kind: "directory", id: "nullmailer:spooldir", path: nm.spool, mode: 0o755, owner: nm.user, group: nm.spoolGroup });
  if (cfg.persistentSpool) {
    res.push({ kind: "directory", id: "nullmailer:persistent", path: cfg.persistentSpool, mode: 0o755, owner: "root", group: "root" });
    res.push({
      kind: "spoolMove",
      id: "nullmailer:spool",
      spool: nm.spool,
      dir: cfg.persistentSpool,
      subdirs: spoolDirs,
      mode: nm.spoolMode,
      owner: nm.user,
      group: nm.spoolGroup,
      service: nm.service,
    });
    serviceInputs.push("nullmailer:spool");
  } else {
    // mail an earlier image queued in a persistent spool this inventory no longer names is never left there unseen
    const known = ctx.fleet.flatMap((h) => {
      const p = (h as RoleHost<typeof nullmailerSections>).nullmailer?.persistentSpool;
      return p ? [p] : [];
    });
    res.push({ kind: "orphanedSpool", id: "nullmailer:orphaned-spool", spool: nm.spool, candidates: [...new Set([...known, ...KNOWN_PERSISTENT_SPOOLS])].sort() });
    for (const d of spoolDirs) {
      res.push({ kind: "directory", id: `nullmailer:spool-${d}`, path: `${nm.spool}/${d}`, mode: nm.spoolMode, owner: nm.user, group: nm.spoolGroup });
    }
  }
  res.push({ kind: "fifo", id: "nullmailer:trigger", path: `${nm.spool}/trigger`, mode: nm.triggerMode, owner: nm.user, group: nm.spoolGroup });

  const realPath = `${nm.inject}.real`;
  res.push({
    kind: "shim",
    id: "nullmailer:inject-shim",
    path: nm.inject,
    realPath,
    content: templates.render("inject-shim.sh", { realPath, realPathQuoted: shq(realPath) }),
    want: cfg.injectShim ?? "auto",
    package: nm.package,
    installedBy: "nullmailer:package",
    functions: FROM_LINE_CHECK,
    check: code("mf_nm_from_line"),
    need: "its nullmailer-inject loses the headers after a leading From line (probed after the install)",
  });

  if (nm.mailerConf) {
    res.push({
      kind: "file",
      id: "nullmailer:mailer.conf",
      path: nm.mailerConf,
      content: templates.render("mailer.conf", { sendmail: nm.sendmail, mailq: nm.mailq }),
      mode: 0o644,
      owner: "root",
      group: "root",
    });
  }
  res.push({ kind: "service", id: "nullmailer:service", name: nm.service, inputs: serviceInputs, onChange: "restart" });

  if (handover) res.push(handover.deliver);
  return res;
}
