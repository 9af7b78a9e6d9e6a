// The inventory's bytes as text: UTF-8 only. A UTF-16 or Latin-1 file is
// refused as such, at the first byte that is not UTF-8, rather than read as
// YAML that happens to parse.
import { InventoryError } from "../errors.ts";

/** The file's text, or an error at the first byte that is not UTF-8 (a UTF-16 file, a NUL). */
export function decodeInventory(bytes: Buffer, display: string): string {
  const notUtf8 = (offset: number, why: string) => {
    const before = bytes.subarray(0, offset).toString("utf8");
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    return new InventoryError([{ file: display, line, column, field: "", message: `the file is not UTF-8 YAML: ${why}; save it as UTF-8` }]);
  };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw notUtf8(0, "it starts with a UTF-16 byte order mark");
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw notUtf8(nul, `a NUL byte${nul < 4 || bytes[nul ^ 1] === 0 ? " (UTF-16 or UTF-32 text?)" : ""}`);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // decoded leniently, the first bad sequence is the first U+FFFD
    const lenient = bytes.toString("utf8");
    const bad = Buffer.byteLength(lenient.slice(0, Math.max(0, lenient.indexOf("\uFFFD"))), "utf8");
    throw notUtf8(bad, "a byte sequence that is not UTF-8 (Latin-1 or UTF-16 text?)");
  }
}
