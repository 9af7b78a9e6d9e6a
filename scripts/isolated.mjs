// Runs a command (the tests) in a private mount namespace where the system
// directories the end-to-end tests change (/etc, /var, /usr, /opt, /home,
// /root, /run, /srv) are overlays: what the tests write there (nullmailer's
// configuration, users for the daemons, npm's cache) lands in a temporary
// directory that is removed afterwards, and the machine stays as it was.
// Packages are installed before (scripts/test-deps.mjs), outside. Without
// root, or already inside, the command runs as it is.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error("usage: node scripts/isolated.mjs COMMAND [ARGS...]");
  process.exit(2);
}
const run = (argv, env = process.env) => spawnSync(argv[0], argv.slice(1), { stdio: "inherit", env }).status ?? 1;

if (process.env.MAILFLEET_ISOLATED || process.getuid?.() !== 0) {
  if (!process.env.MAILFLEET_ISOLATED) console.error("isolated: not root, so the tests run without a private mount namespace (the end-to-end tests need root)");
  process.exit(run(command));
}

const dirs = ["etc", "var", "usr", "opt", "home", "root", "run", "srv"].filter((d) => existsSync(`/${d}`));
const layers = mkdtempSync(path.join(os.tmpdir(), "mf-isolated-"));
for (const d of dirs) for (const part of ["upper", "work"]) mkdirSync(path.join(layers, part, d), { recursive: true });
const mounts = dirs
  .map((d) => `mount -t overlay isolated-${d} -o "lowerdir=/${d},upperdir=$L/upper/${d},workdir=$L/work/${d}" /${d} || exit 111`)
  .join("\n");
const code = run(["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", `L=$1; shift\n${mounts}\nexec "$@"`, "isolated", layers, ...command], {
  ...process.env,
  MAILFLEET_ISOLATED: "1",
});
rmSync(layers, { recursive: true, force: true });
process.exit(code === 111 ? 1 : code);
