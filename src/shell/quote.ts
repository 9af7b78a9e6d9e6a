// Quoting for the portable sh scripts mailfleet sends to hosts. Only the
// builder (./builder.ts) calls these; resources and platforms interpolate
// values through it.

/** Quotes a word for sh: single quotes, with ' written as '\''. */
export function shq(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Length of the well-formed UTF-8 sequence starting at buf[i], or 0 if none does. */
function utf8Length(buf: Buffer, i: number): number {
  const lead = buf[i]!;
  const n = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 0;
  if (n === 0 || i + n > buf.length || lead >= 0xf5) return 0;
  const seq = buf.subarray(i, i + n);
  return Buffer.from(seq.toString("utf8"), "utf8").equals(seq) ? n : 0;
}

/**
 * A literal for `printf '%b'` that reproduces `content` byte for byte:
 * backslashes doubled, NUL as \0000, ' closed and reopened, UTF-8 characters
 * as they are (scripts travel as UTF-8 text), any other byte >= 0x80 as an
 * octal escape (the script runs with LC_ALL=C, so printf writes it as one byte).
 */
export function printfLiteral(content: string | Buffer): string {
  const buf = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  let out = "";
  for (let i = 0; i < buf.length; ) {
    const byte = buf[i]!;
    if (byte < 0x80) {
      out += byte === 0x5c ? "\\\\" : byte === 0 ? "\\0000" : byte === 0x27 ? "'\\''" : String.fromCharCode(byte);
      i++;
      continue;
    }
    const n = utf8Length(buf, i);
    if (n > 0) {
      out += buf.toString("utf8", i, i + n);
      i += n;
    } else {
      out += `\\0${byte.toString(8).padStart(3, "0")}`;
      i++;
    }
  }
  return `'${out}'`;
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
