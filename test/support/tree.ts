// A directory tree as plain data (paths, types, modes, owners, link targets,
// file bytes), to compare what two runs left on disk.
import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import path from "node:path";

export interface TreeEntry {
  path: string;
  type: "file" | "dir" | "link" | "fifo" | "other";
  mode: string;
  owner: string;
  /** Files: size and sha256 of the bytes. Links: the target. */
  content?: string;
}

export function snapshotTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const st = lstatSync(abs);
    const type = st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isFIFO() ? "fifo" : "other";
    const entry: TreeEntry = { path: rel || ".", type, mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), owner: `${st.uid}:${st.gid}` };
    if (type === "file") entry.content = `${st.size} ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`;
    if (type === "link") entry.content = readlinkSync(abs);
    out.push(entry);
    if (type === "dir") for (const name of readdirSync(abs).sort()) walk(path.join(rel, name));
  };
  walk("");
  return out;
}
