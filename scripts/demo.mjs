// npm run demo: plan, apply and re-plan the demo fleet of examples/ (directory
// trees under examples/sandbox). No root, no daemons, no network.
import { rmSync } from "node:fs";
import { spawnSync } from "node:child_process";

// the compiled CLI: npm install built it (prepare); rebuilt here only if a source changed since
spawnSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { stdio: "inherit" });

const inventory = process.env.DEMO_INVENTORY ?? "examples/demo-fleet.yaml";
const run = (title, args, okCodes) => {
  console.log(`\n\x1b[1m$ mailfleet ${args.join(" ")}\x1b[0m   # ${title}`);
  const r = spawnSync(process.execPath, ["bin/mailfleet.js", ...args], { stdio: "inherit" });
  if (!okCodes.includes(r.status)) {
    console.error(`demo: mailfleet ${args[0]} exited ${r.status}`);
    process.exit(1);
  }
  return r.status;
};

rmSync("examples/sandbox", { recursive: true, force: true });
console.log("Starting from an empty sandbox (examples/sandbox).");
run("what would change", ["plan", "-i", inventory, "--detailed-exitcode"], [2]);
run("make it so", ["apply", "-i", inventory, "--yes"], [0]);
const code = run("nothing left to do", ["plan", "-i", inventory, "--detailed-exitcode"], [0]);
console.log(code === 0 ? "\nDemo done: the second plan shows no changes." : "");
