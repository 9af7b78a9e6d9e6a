// A managed file larger than the part a plan reads (the passwd-file of a hub
// with 10,000 mailboxes is 1.3 MB): once written it is converged, and a change
// past the part read is still a change. Under dash, ksh93 and busybox sh.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostContext } from "../../src/engine/desired.ts";
import { diffHost } from "../../src/engine/plan.ts";
import { applyScript, parseProbeOutput, probeScript } from "../../src/engine/scripts.ts";
import { debian } from "../../src/platforms/debian.ts";
import { FILE_PROBE_LIMIT } from "../../src/resources/file.ts";
import type { FileResource } from "../../src/resources/types.ts";
import { SHELLS } from "../support/shells.ts";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mf-large-files-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lines = (n: number, last = "x") => Array.from({ length: n }, (_, i) => `user${i}@one.example:{BLF-CRYPT}$2b$10$${i === n - 1 ? last : "y"}:5000:5000::/var/vmail/${i}\n`).join("");
const CONTENT = lines(20_000);

describe("files larger than a plan reads", () => {
  it.each(SHELLS)("$name: written once, then no change; a change past the first MiB is one", (shell) => {
    expect(Buffer.byteLength(CONTENT)).toBeGreaterThan(FILE_PROBE_LIMIT);
    const root = path.join(tmp, shell.env.replace(/\W/g, "-"));
    const ctx = { ...hostContext(debian, root), sandbox: true };
    const run = (script: string) => execFileSync(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { input: script, encoding: "utf8", maxBuffer: 64 << 20 });
    for (const [sensitive, mask] of [[false, undefined], [true, "dovecot:passwd-file"]] as const) {
      const file = (content: string): FileResource => ({ kind: "file", id: "big", path: `/etc/big-${sensitive}`, content, mode: 0o640, sensitive, mask });
      const plan = (content: string) => diffHost([file(content)], parseProbeOutput(run(probeScript([file(content)], ctx)))!, ctx);
      const first = plan(CONTENT);
      expect(first.map((c) => c.action)).toEqual(["create"]);
      run(applyScript([file(CONTENT)], first, ctx));
      expect(readFileSync(path.join(root, `etc/big-${sensitive}`), "utf8")).toBe(CONTENT);
      expect(plan(CONTENT)).toEqual([]);
      const changed = lines(20_000, "z");
      expect(Buffer.byteLength(changed)).toBe(Buffer.byteLength(CONTENT));
      const [c] = plan(changed);
      expect(c!.action).toBe("update");
      expect(c!.diff).toMatch(/content changed \(\d+ bytes, more than the 1048576 a plan reads: not shown\)$/);
      writeFileSync(path.join(root, `etc/big-${sensitive}`), changed);
      expect(plan(changed)).toEqual([]);
    }
  });
});
