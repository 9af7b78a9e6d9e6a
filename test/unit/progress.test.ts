import { describe, expect, it } from "vitest";
import { isLiveTerminal, lineProgress, liveProgress } from "../../src/cli/progress.ts";

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
});
