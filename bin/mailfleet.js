#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx mailfleet` works right after
// `npm install`, with no build step, and Terraform's local-exec calls the same code.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
