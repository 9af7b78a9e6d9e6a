// How a host's Terraform resource is named and what its local-exec runs.
// Pure; every path is relative to the stack directory, so a checkout of the
// repository anywhere else (a CI runner) runs the same command.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { shq } from "../src/shell/quote.ts";

/** This mailfleet's bin/mailfleet.js: next to stacks/ in a checkout, two levels up from dist/stacks/ when compiled. */
export const MAILFLEET_BIN = ((): string => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const bin = path.join(dir, "bin", "mailfleet.js");
    if (existsSync(bin)) return bin;
    if (path.dirname(dir) === dir) throw new Error("bin/mailfleet.js not found above stacks/");
  }
})();

/** `a` relative to the directory `from`, with forward slashes. */
export function relativePath(from: string, to: string): string {
  return path.relative(path.resolve(from), path.resolve(to)).split(path.sep).join("/") || ".";
}

/**
 * The host's name when Terraform accepts it as a resource name; otherwise a
 * cleaned name plus a short hash of the original, so two hosts never collide
 * and the address stays the same from one synth to the next.
 */
export function terraformName(host: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(host)) return host;
  const clean = host.replace(/[^A-Za-z0-9_-]/g, "_");
  const hash = createHash("sha256").update(host).digest("hex").slice(0, 8);
  return `host_${clean}_${hash}`;
}

export interface ApplyCommandInput {
  stackDir: string;
  inventoryFile: string;
  host: string;
  /** How to run mailfleet; default: node with this mailfleet's bin/mailfleet.js, relative to the stack directory. */
  exec?: string;
}

/** `mailfleet apply` for one host; secrets are read by mailfleet at apply time, never passed here. */
export function applyCommand(i: ApplyCommandInput): string {
  const exec = i.exec ?? `node ${shq(relativePath(i.stackDir, MAILFLEET_BIN))}`;
  return `${exec} apply -i ${shq(relativePath(i.stackDir, i.inventoryFile))} --limit ${shq(i.host)} --yes`;
}

export interface ApplyPlanCommandInput extends ApplyCommandInput {
  /** The reviewed plan the stack carries. */
  planFile: string;
}

/** `mailfleet apply PLAN --host NAME`: that host's part of the reviewed plan, exactly, or "stale plan". */
export function applyPlanCommand(i: ApplyPlanCommandInput): string {
  const exec = i.exec ?? `node ${shq(relativePath(i.stackDir, MAILFLEET_BIN))}`;
  return `${exec} apply ${shq(relativePath(i.stackDir, i.planFile))} -i ${shq(relativePath(i.stackDir, i.inventoryFile))} --host ${shq(i.host)}`;
}
