// A wrapper installed in front of a binary, recognised by its content: after
// a package upgrade overwrote it, the next plan sees a binary again and
// wraps that; when the wrapper is no longer wanted the original goes back.
// With want=auto the binary itself decides: the resource's check runs it
// (harmlessly) on the host, at plan time when it is there, else in the apply
// script right after the package that brings it is installed.
import { content, hostPath, join, mode, sh, type Sh } from "../../src/shell/builder.ts";
import { parsePathFacts, type PathFacts } from "../../src/resources/facts.ts";
import { ownerWanted } from "../../src/resources/file.ts";
import { sandboxSkip } from "../../src/resources/package.ts";
import type { Change, HostContext, ResourceHandler } from "../../src/resources/types.ts";

/** A sh wrapper installed in front of a binary; the binary is kept at realPath. */
export interface ShimResource {
  kind: "shim";
  id: string;
  path: string;
  realPath: string;
  content: string;
  want: "always" | "never" | "auto";
  /** The package that brings the binary (for messages). */
  package: string;
  /** The id of the package resource that installs it: when that installs in the same apply, want=auto is decided after it. */
  installedBy?: string;
  /**
   * With want=auto: a harmless run of the binary decides. `check` is a command
   * (using `functions`) given a binary's path as its next word; it prints
   * "wrap: <why>" or "keep: <why>". Anything else (it could not run) wraps.
   */
  functions: Sh;
  check: Sh;
  /** When the wrapper is needed, in words for the plan ("its nullmailer-inject loses ..."). */
  need: string;
}

declare module "../../src/resources/types.ts" {
  interface ResourceKinds {
    shim: ShimResource;
  }
}


const LIMIT = 16384;

export interface ShimFacts {
  bin: PathFacts;
  real: PathFacts;
  /** What the check printed for the binary at path, and for the one at realPath ("" when not run). */
  binCheck: string;
  realCheck: string;
}

function splitFacts(lines: string[]): ShimFacts {
  const at = (marker: string) => lines.indexOf(marker);
  const section = (from: string, to?: string) => {
    const a = at(from);
    if (a < 0) return [];
    const b = to === undefined ? -1 : at(to);
    return lines.slice(a + 1, b < 0 ? undefined : b);
  };
  return {
    bin: parsePathFacts(section("@bin", "@real")),
    real: parsePathFacts(section("@real", "@check-bin")),
    binCheck: section("@check-bin", "@check-real").join(" ").trim(),
    realCheck: section("@check-real").join(" ").trim(),
  };
}

/** Whether the wrapper is wanted, and why, from what the host showed. */
export function shimWanted(r: ShimResource, f: ShimFacts, ctx: HostContext, isWrapper: (p: PathFacts) => boolean): { want: boolean; why: string } {
  if (r.want === "always") return { want: true, why: "injectShim: always" };
  if (r.want === "never") return { want: false, why: "injectShim: never" };
  if (ctx.sandbox) return { want: false, why: `auto: programs are not run under a root prefix, so ${r.path} is left as it is` };
  const verdict = isWrapper(f.bin) ? f.realCheck : f.binCheck;
  if (verdict.startsWith("keep")) return { want: false, why: verdict.replace(/^keep:\s*/, "") };
  if (verdict.startsWith("wrap")) return { want: true, why: verdict.replace(/^wrap:\s*/, "") };
  // A check that printed nothing could not run the binary: the wrapper is harmless where the bug is fixed.
  return { want: true, why: `the check of ${isWrapper(f.bin) ? r.realPath : r.path} printed nothing; wrapping is harmless where the bug is fixed` };
}

/** The check's verdict on the binary at `p` (a host path as the shell sees it). */
const check = (r: ShimResource, p: ReturnType<typeof hostPath>): Sh => sh`if [ -f ${p} ]; then ${r.check} ${p}; fi`;

export const shimHandler: ResourceHandler<ShimResource> = {
  statPaths: (r) => [r.path, r.realPath],
  probe: (r, ctx) => {
    const runs = r.want === "auto" && !ctx.sandbox;
    return join([
      sh`echo @bin`,
      sh`mf_probe_path ${hostPath(r.path)} ${LIMIT}`,
      sh`echo @real`,
      sh`mf_probe_path ${hostPath(r.realPath)} ${LIMIT}`,
      runs && r.functions,
      sh`echo @check-bin`,
      runs && check(r, hostPath(r.path)),
      sh`echo @check-real`,
      runs && check(r, hostPath(r.realPath)),
    ]);
  },

  references: (r) => (r.installedBy ? [r.installedBy] : []),

  diff(r, lines, ctx, changed): Change | null {
    const f = splitFacts(lines);
    const wrapper = Buffer.from(r.content, "utf8");
    const isWrapper = (p: PathFacts) => p.type === "file" && p.size === wrapper.length && !!p.content?.equals(wrapper);
    const base = { id: r.id, kind: "shim" as const, target: r.path };
    // Does the binary come with this same apply? Then it can be asked only then, by the apply script.
    const installing = r.installedBy === undefined ? f.bin.type === "missing" : changed.has(r.installedBy);
    if (r.want === "auto" && !ctx.sandbox) {
      if (installing) return { ...base, action: "wrap", summary: `wrap ${r.path} once ${r.package} is installed, if ${r.need}`, data: { ifNeeded: true } };
      // The package is there without this program: nothing to ask, nothing to wrap.
      if (f.bin.type === "missing" && f.real.type === "missing") return null;
    }
    const { want, why } = shimWanted(r, f, ctx, isWrapper);
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
    const isWrapper = sh`printf '%b' ${content(r.content)} | cmp -s ${bin} -`;
    // ln -f keeps a binary at the real path at every moment; the wrapper then replaces the old name atomically.
    const wrap = join([
      sh`[ -f ${bin} ] || ${fail(`${r.path} not found: is ${r.package} installed?`)}`,
      sh`if ! ${isWrapper}; then ln -f ${bin} ${real} || ${fail(`cannot keep ${r.path} as ${r.realPath}`)}; fi`,
      sh`mf_write ${r.path} ${mode(0o755)} ${owner} ${group} ${content(r.content)} || ${fail(`cannot install the wrapper at ${r.path}`)}`,
      // the binary is kept at the real path already; no second backup of it
      sh`rm -f ${bin}.mailfleet-bak.$MF_STAMP`,
    ]);
    if (!change.data?.ifNeeded) return wrap;
    // The package was installed by an earlier step of this script: ask the binary now, as a plan
    // would, and leave what the verification expects (wrapped, or the binary alone without .real).
    return sh`[ -f ${bin} ] || ${fail(`${r.path} not found after installing ${r.package}`)}
${r.functions}
if ${isWrapper}; then
  case $(${check(r, real)}) in keep*) mv -f ${real} ${bin} || ${fail(`cannot restore ${r.path}`)} ;; esac
else
  case $(${check(r, bin)}) in keep*) rm -f ${real} ;; *)
${wrap}
  ;; esac
fi`;
  },
};
