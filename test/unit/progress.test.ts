import { describe, expect, it } from "vitest";
import { isLiveTerminal, lineProgress, liveProgress } from "../../src/cli/progress.ts";
import { screen } from "../support/terminal.ts";

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 60, write: (s: string) => (chunks.push(s), true) } };
}

describe("fleet progress", () => {
  it("prints one plain line per finished host when not on a terminal", () => {
    const { chunks, stream } = sink();
    const p = lineProgress("plan", 3, stream);
    p.started("a");
    p.done({ host: "a", ok: true }, "no changes");
    p.done({ host: "b", ok: false, error: "unreachable: Connection refused" });
    p.done({ host: "c", ok: true });
    p.end();
    expect(chunks.join("")).toBe("plan 1/3 a: ok (no changes)\nplan 2/3 b: FAILED: unreachable: Connection refused\nplan 3/3 c: ok\n");
  });

  it("is live only on a terminal outside CI", () => {
    expect(isLiveTerminal({ isTTY: true, write: () => true }, {})).toBe(true);
    expect(isLiveTerminal({ isTTY: true, write: () => true }, { CI: "true" })).toBe(false);
    expect(isLiveTerminal({ isTTY: false, write: () => true }, {})).toBe(false);
  });

  it("on a terminal redraws a status line in place and prints failures above it", async () => {
    const { chunks, stream } = sink(true);
    const p = liveProgress("apply", 2, stream);
    p.started("web1");
    p.started("web2");
    await new Promise((r) => setTimeout(r, 150));
    p.done({ host: "web1", ok: false, error: "timed out after 3 s" });
    await new Promise((r) => setTimeout(r, 150));
    p.done({ host: "web2", ok: true });
    p.end();
    // Colours depend on the environment (picocolors turns them on under CI=true); the layout does not.
    const text = chunks.join("").replace(/\x1b\[[0-9;]*m/g, "");
    expect(text).toContain("0/2 done, 2 running");
    expect(text).toContain("web1 web2");
    expect(text).toContain("failed web1: timed out after 3 s\n");
    expect(text).toContain("1/2 done, 1 running, 1 failed");
    // Lines are rewritten in place: carriage return and erase-line, and the last frame is cleared.
    expect(text).toContain("\r\x1b[2K");
    expect(text.endsWith("\r\x1b[2K\x1b[1A\x1b[2K") || text.endsWith("\r\x1b[2K")).toBe(true);
  });

  it("on a terminal, a host's result printed while the display is up replaces it: no line mixes the two", async () => {
    // stderr (the display) and stdout (the results) are one terminal: one byte stream
    const terminal: string[] = [];
    const tty = { isTTY: true, columns: 60, write: (s: string) => (terminal.push(s), true) };
    const stdout = (s: string) => terminal.push(s);
    const p = liveProgress("apply", 2, tty);
    p.started("web1");
    p.started("db1");
    await new Promise((r) => setTimeout(r, 150));
    expect(screen(terminal.join("")).join("\n")).toContain("web1 db1");
    p.done({ host: "db1", ok: true });
    p.print(() => stdout("db1: applied 9 changes, verified\n"));
    await new Promise((r) => setTimeout(r, 150));
    p.done({ host: "web1", ok: true });
    p.print(() => stdout("web1: applied 9 changes, verified\n"));
    p.end();
    stdout("Apply: 2 hosts changed, 0 unchanged\n");
    const bytes = terminal.join("").replace(/\x1b\[[0-9;]*m/g, "");
    expect(screen(bytes)).toEqual(["db1: applied 9 changes, verified", "web1: applied 9 changes, verified", "Apply: 2 hosts changed, 0 unchanged", ""]);
    // the display is erased (carriage return, erase line, up, erase line) right before each result
    expect(bytes).toContain("\r\x1b[2K\x1b[1A\x1b[2Kdb1: applied");
    expect(bytes).toMatch(/\r\x1b\[2K(\x1b\[1A\x1b\[2K)?web1: applied/);
  });

  it("off a terminal print just writes", () => {
    const { chunks, stream } = sink();
    const out: string[] = [];
    const p = lineProgress("apply", 1, stream);
    p.print(() => out.push("web1: applied 1 change, verified\n"));
    expect(out).toEqual(["web1: applied 1 change, verified\n"]);
    expect(chunks).toEqual([]);
  });
});
