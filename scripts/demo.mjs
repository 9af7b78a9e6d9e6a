// npm run demo: plan, apply and re-plan the demo fleet of examples/ (directory
// trees under examples/sandbox). No root, no daemons, no network.
import { mkdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// the project's scripts and CLI, wherever this runs from (examples/ is the working directory's)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// the compiled CLI: npm install built it (prepare); rebuilt here only if a source changed since
spawnSync(process.execPath, [path.join(root, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" });

const inventory = process.env.DEMO_INVENTORY ?? "examples/demo-fleet.yaml";
const run = (title, args, okCodes) => {
  console.log(`\n\x1b[1m$ mailfleet ${args.join(" ")}\x1b[0m   # ${title}`);
  const r = spawnSync(process.execPath, [path.join(root, "bin/mailfleet.js"), ...args], { stdio: "inherit" });
  if (!okCodes.includes(r.status)) {
    console.error(`demo: mailfleet ${args[0]} exited ${r.status}`);
    process.exit(1);
  }
  return r.status;
};

rmSync("examples/sandbox", { recursive: true, force: true });
console.log("Starting from an empty sandbox (examples/sandbox).");
// shown once, applied as shown: the plan is saved and apply takes exactly it (terraform plan -out, terraform apply FILE)
const saved = "examples/sandbox/demo.plan";
mkdirSync("examples/sandbox", { recursive: true });
run("what would change", ["plan", "-i", inventory, "--detailed-exitcode", "--out", saved], [2]);
run("make it so: exactly the plan above", ["apply", saved], [0]);
const code = run("nothing left to do", ["plan", "-i", inventory, "--detailed-exitcode"], [0]);
console.log(code === 0 ? "\nDemo done: the second plan shows no changes." : "");
