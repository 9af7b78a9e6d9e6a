// A wrapper installed in front of a binary, recognised by its content: after
// a package upgrade overwrote it, the next plan sees a binary again and
// wraps that; when the wrapper is no longer wanted the original goes back.
import { code, content, hostPath, join, mode, sh } from "../shell/builder.ts";
import { parsePathFacts, type PathFacts } from "./facts.ts";
import { ownerWanted } from "./file.ts";
import { packageVersion, sandboxSkip } from "./package.ts";
import type { Change, HostContext, ResourceHandler, ShimResource } from "./types.ts";

const LIMIT = 16384;

/** Exit 0 when dotted version $1 is below $2 (numeric parts; missing parts are 0). */
const VERSION_BELOW_FN = code(`mf_version_below() {
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, "."); m = split(b, y, "."); if (m > n) n = m
    for (i = 1; i <= n; i++) { p = x[i] + 0; q = y[i] + 0; if (p < q) exit 0; if (p > q) exit 1 }
    exit 1 }'
}`);

/** -1, 0 or 1 comparing dotted versions numerically (2.0.1 < 2.1 < 2.10). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_+]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.\-_+]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function shimWanted(r: ShimResource, installedVersion: string | null, ctx: HostContext): { want: boolean; why: string } {
  if (r.want === "always") return { want: true, why: "injectShim: always" };
  if (r.want === "never") return { want: false, why: "injectShim: never" };
  if (installedVersion === null) return { want: false, why: `${r.package} version unknown; assuming >= ${r.fixedIn}` };
  const v = ctx.platform.upstreamVersion(installedVersion);
  const want = compareVersions(v, r.fixedIn) < 0;
  return { want, why: `${r.package} ${v} ${want ? "<" : ">="} ${r.fixedIn}` };
}

function splitFacts(lines: string[]): { version: string | null; sandbox: boolean; bin: PathFacts; real: PathFacts } {
  const iReal = lines.indexOf("@real");
  return {
    sandbox: (lines[0] ?? "").trim() === "sandbox",
    version: packageVersion(lines.slice(0, 1)),
    bin: parsePathFacts(lines.slice(1, iReal < 0 ? undefined : iReal)),
    real: parsePathFacts(iReal < 0 ? [] : lines.slice(iReal + 1)),
  };
}

export const shimHandler: ResourceHandler<ShimResource> = {
  statPaths: (r) => [r.path, r.realPath],
  probe: (r, ctx) =>
    join([
      ctx.sandbox ? sh`echo sandbox` : ctx.platform.packageProbe(r.package),
      sh`mf_probe_path ${hostPath(r.path)} ${LIMIT}`,
      sh`echo @real`,
      sh`mf_probe_path ${hostPath(r.realPath)} ${LIMIT}`,
    ]),

  diff(r, lines, ctx): Change | null {
    const f = splitFacts(lines);
    const wrapper = Buffer.from(r.content, "utf8");
    const isWrapper = (p: PathFacts) => p.type === "file" && p.size === wrapper.length && !!p.content?.equals(wrapper);
    const { want, why } = shimWanted(r, f.version, ctx);
    const base = { id: r.id, kind: "shim" as const, target: r.path };
    if (r.want === "auto" && f.version === null && f.bin.type === "missing" && !ctx.sandbox) {
      // Installed by this same apply: its version is known only then.
      return { ...base, action: "wrap", summary: `wrap ${r.path} once ${r.package} is installed, if its version is below ${r.fixedIn}`, data: { ifBelow: r.fixedIn } };
    }
    const binWrapped = isWrapper(f.bin);
    const realOk = f.real.type === "file" && !isWrapper(f.real);
    if (want) {
      if (binWrapped && realOk) return null;
      if (binWrapped) {
        return { ...base, action: "update", summary: `${r.path} is the wrapper but ${r.realPath} is missing: reinstall ${r.package}`, data: { broken: true } };
      }
      if (f.bin.type === "missing") {
        if (ctx.sandbox) return sandboxSkip(r.id, "shim", r.path, `wrap ${r.path} (${why}): not installed in the sandbox`);
        return { ...base, action: "wrap", summary: `wrap ${r.path} once ${r.package} is installed (${why})` };
      }
      const again = f.real.type === "file" ? ` (a new binary replaced the wrapper; it becomes ${r.realPath})` : "";
      return { ...base, action: "wrap", summary: `wrap ${r.path}, keeping the binary as ${r.realPath} (${why})${again}` };
    }
    if (binWrapped) {
      if (!realOk) {
        return { ...base, action: "update", summary: `${r.path} is the wrapper but ${r.realPath} is missing: reinstall ${r.package}`, data: { broken: true } };
      }
      return { ...base, action: "unwrap", summary: `restore ${r.path} from ${r.realPath} (${why})` };
    }
    if (f.real.type === "file") {
      return { ...base, action: "delete", target: r.realPath, summary: `remove ${r.realPath} left by an earlier wrapper (${why})` };
    }
    return null;
  },

  apply(r, change, ctx) {
    const bin = hostPath(r.path);
    const real = hostPath(r.realPath);
    const fail = (m: string) => sh`mf_fail ${m}`;
    if (change.data?.broken) return fail(change.summary);
    if (change.action === "unwrap") return sh`mv -f ${real} ${bin} || ${fail(`cannot restore ${r.path}`)}`;
    if (change.action === "delete") return sh`rm -f ${real} || ${fail(`cannot remove ${r.realPath}`)}`;
    const { owner, group } = ownerWanted({ owner: "root", group: "root" }, ctx);
    // ln -f keeps a binary at the real path at every moment; the wrapper then replaces the old name atomically.
    const wrap = join([
      sh`[ -f ${bin} ] || ${fail(`${r.path} not found: is ${r.package} installed?`)}`,
      sh`if ! printf '%b' ${content(r.content)} | cmp -s ${bin} -; then ln -f ${bin} ${real} || ${fail(`cannot keep ${r.path} as ${r.realPath}`)}; fi`,
      sh`mf_write ${r.path} ${mode(0o755)} ${owner} ${group} ${content(r.content)} || ${fail(`cannot install the wrapper at ${r.path}`)}`,
      // the binary is kept at the real path already; no second backup of it
      sh`rm -f ${bin}.mailfleet-bak.$MF_STAMP`,
    ]);
    if (!change.data?.ifBelow) return wrap;
    const version = sh`$( { ${ctx.platform.packageProbe(r.package)}; } | sed -n -e 's/^installed //' -e 's/^[0-9]*://' -e 's/-[^-]*$//' -e 's/nb[0-9]*$//' -e p)`;
    return sh`${VERSION_BELOW_FN}
if mf_version_below "${version}" ${String(change.data.ifBelow)}; then
${wrap}
fi`;
  },
};
