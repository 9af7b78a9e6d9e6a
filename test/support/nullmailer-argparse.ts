/** nullmailer's lib/argparse.cc, transcribed: how nullmailer-send splits a line of `remotes` into words. */
export function nullmailerParse(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) {
      i++;
      continue;
    }
    let arg = "";
    let start = i;
    let p = i;
    for (; p < line.length && !/\s/.test(line[p]!); ++p) {
      const c = line[p];
      if (c === "'") {
        arg += line.slice(start, p);
        for (start = ++p; p < line.length && line[p] !== "'"; ++p);
        arg += line.slice(start, p);
        start = p + 1;
        continue;
      }
      if (c === '"') {
        arg += line.slice(start, p);
        for (start = ++p; p < line.length && line[p] !== '"'; p++) {
          if (line[p] === "\\") {
            arg += line.slice(start, p);
            if (++p < line.length) arg += line[p];
            start = ++p;
          }
        }
        arg += line.slice(start, p);
        start = p + 1;
        continue;
      }
      if (c === "\\") {
        arg += line.slice(start, p);
        if (++p < line.length) arg += line[p];
        start = ++p;
        continue;
      }
    }
    if (p - start > 0) arg += line.slice(start, p);
    out.push(arg);
    i = p;
  }
  return out;
}
