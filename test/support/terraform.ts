// Runs the real terraform binary the way CI would: no prompts, no update
// check, an empty CLI configuration and no plugin cache, so nothing is
// downloaded (terraform_data is built into Terraform).
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";

export interface TfResult {
  code: number;
  stdout: string;
  stderr: string;
}

let cliConfig: string | undefined;

export function terraformEnv(extra: Record<string, string> = {}): Record<string, string> {
  if (!cliConfig) {
    cliConfig = path.join(mkdtempSync(path.join(os.tmpdir(), "mf-tfrc-")), "terraformrc");
    writeFileSync(cliConfig, "");
  }
  return {
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_PLUGIN_CACHE_DIR: "",
    CHECKPOINT_DISABLE: "1",
    NO_COLOR: "1",
    ...extra,
  };
}

/** Starts terraform in `dir`; every run's output is appended to `transcript` (the tests search it for secrets). */
export function startTerraform(dir: string, args: string[], env: Record<string, string>, transcript: string[]): ResultPromise {
  // -no-color goes right after the subcommand; `terraform state ...` does not take it.
  const argv = args[0] === "state" ? args : [args[0]!, "-no-color", ...args.slice(1)];
  const child = execa("terraform", argv, {
    cwd: dir,
    env: terraformEnv(env),
    reject: false,
    stdin: "ignore",
  });
  void child.then((r) => transcript.push(`$ terraform ${args.join(" ")}\n${String(r.stdout)}\n${String(r.stderr)}`));
  return child;
}

export async function terraform(dir: string, args: string[], env: Record<string, string>, transcript: string[]): Promise<TfResult> {
  const r = await startTerraform(dir, args, env, transcript);
  return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
