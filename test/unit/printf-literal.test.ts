// printfLiteral through the real printf of each shell, the way scripts travel:
// as UTF-8 text on the shell's stdin.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { printfLiteral } from "../../src/shell/quote.ts";
import { SHELLS } from "../support/shells.ts";

const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const CASES: [string, Buffer][] = [
  ["every byte value", all],
  ["every byte value, reversed", Buffer.from(all).reverse()],
  ["UTF-8 text", Buffer.from("ünïcödé ☃ 🙂 日本語 \u2028 \ufeff", "utf8")],
  ["invalid UTF-8: lone continuation, truncated, overlong, surrogate", Buffer.from([0x80, 0x41, 0xc3, 0xe2, 0x82, 0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xff, 0xfe])],
  ["escapes next to digits", Buffer.from([0x00, 0x31, 0x32, 0x33, 0xff, 0x37, 0x37, 0x5c, 0x30, 0x31, 0x30, 0x31])],
  ["printf and shell syntax", Buffer.from("%s %b %n %% \\c \\n \\0101 \\x41 '\"'\" $(id) `id` ${HOME} \r\n", "utf8")],
  ["latin-1 text", Buffer.from("caf\xe9 na\xefve\n", "latin1")],
  ["empty", Buffer.alloc(0)],
];

describe.each(SHELLS)("printfLiteral under $name", (shell) => {
  it.each(CASES)("reproduces %s byte for byte", (_what, bytes) => {
    const script = `LC_ALL=C; export LC_ALL\nprintf '%b' ${printfLiteral(bytes)}\n`;
    const r = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-s"], { input: Buffer.from(script, "utf8"), env: { PATH: process.env.PATH } });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString("hex")).toBe(bytes.toString("hex"));
  });

  it("gives the same bytes for a string and its UTF-8 buffer", () => {
    const s = "a'b\\c ☃";
    expect(printfLiteral(s)).toBe(printfLiteral(Buffer.from(s, "utf8")));
  });
});
