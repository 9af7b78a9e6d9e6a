// On a terminal, the live progress display is cleared before a host's result
// is printed: the real CLI in a pseudo-terminal (util-linux script(1)), its
// bytes replayed on a small terminal model, shows every result on a line of
// its own ("web1: applied 9 changes, verified"), none glued to what the
// display showed ("  web1 db1web1: applied ..."). Each script the transport
// runs starts 0.4 s late, so the display is up when the results come.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/cli.ts";
import { screen } from "../support/terminal.ts";

describe("progress on a terminal", () => {
  it("apply: the display is gone before each result and at the end", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mf-tty-"));
    copyFileSync(path.join(REPO, "examples/zones.yaml"), path.join(dir, "zones.yaml"));
    const slow = path.join(dir, "slow-sh");
    writeFileSync(slow, '#!/bin/sh\nsleep 0.4\nexec /bin/sh "$@"\n');
    chmodSync(slow, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", TERM: "xterm", MAILFLEET_LOCAL_SHELL: slow };
    delete env.CI;
    const cmd = `${process.execPath} ${path.join(REPO, "bin/mailfleet.js")} apply -i zones.yaml --yes`;
    const r = spawnSync("script", ["-qfec", cmd, "/dev/null"], { cwd: dir, env, input: "", encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    // it was live: the display was drawn, with both hosts running
    expect(r.stdout).toMatch(/apply \[ *\] 0\/2 done, 2 running/);
    const lines = screen(r.stdout);
    const results = lines.filter((l) => /applied \d+ changes/.test(l));
    expect(results.sort()).toEqual(["db1: applied 9 changes, verified", "web1: applied 9 changes, verified"]);
    expect(lines.filter((l) => /running|done,|^ {2}(web1|db1)/.test(l))).toEqual([]);
    expect(lines.at(-2)).toBe("Apply: 2 hosts changed, 0 unchanged");
  });
});
