// The screen a terminal shows after a stream of bytes: enough of a VT100 for
// what mailfleet writes (text, CR, LF, erase line, cursor up, colours).
export function screen(bytes: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = lines[row]!.padEnd(col, " ");
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (ch === "\x1b") {
      const m = /^\x1b\[(\d*)([A-Za-z])/.exec(bytes.slice(i));
      if (!m) throw new Error(`escape sequence not understood at ${JSON.stringify(bytes.slice(i, i + 8))}`);
      const n = Number(m[1] || 1);
      if (m[2] === "K") lines[row] = m[1] === "2" ? "" : lines[row]!.slice(0, col);
      else if (m[2] === "A") row = Math.max(0, row - n);
      else if (m[2] !== "m") throw new Error(`escape sequence not understood: ${JSON.stringify(m[0])}`);
      i += m[0].length - 1;
    } else if (ch === "\r") col = 0;
    else if (ch === "\n") {
      row++;
      col = 0;
      if (lines.length <= row) lines.push("");
    } else put(ch);
  }
  return lines.map((l) => l.trimEnd());
}
