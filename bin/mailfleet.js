#!/usr/bin/env node
// The compiled CLI (npm run build writes dist/; `prepare` runs it on npm install).
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("mailfleet: dist/ is missing; run `npm run build` (npm install does it through `prepare`)\n");
  process.exit(1);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv);
