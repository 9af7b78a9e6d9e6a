// A directory tree as a comparable value: every entry's type, mode, owner and
// bytes (or link target), so two applies can be checked to be byte-identical.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";

export interface TreeEntry {
  path: string;
  type: "dir" | "file" | "symlink" | "fifo" | "other";
  mode: string;
  owner: string;
  content?: string;
}

export function snapshotTree(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(root, r);
      const st = lstatSync(full);
      const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : st.isFIFO() ? "fifo" : "other";
      const entry: TreeEntry = { path: r, type, mode: (st.mode & 0o7777).toString(8), owner: `${st.uid}:${st.gid}` };
      if (type === "file") entry.content = createHash("sha256").update(readFileSync(full)).digest("hex");
      if (type === "symlink") entry.content = readlinkSync(full);
      out.push(entry);
      if (type === "dir") walk(r);
    }
  };
  walk("");
  return out;
}
