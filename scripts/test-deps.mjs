// Installs what the tests need: Debian packages (test/system-packages.txt) and
// .debs unpacked under .deps/ (daemons that cannot be installed here: Postfix and
// OpenSMTPD conflict with nullmailer; the postinsts of Dovecot and rspamd would
// create users and start services). Does nothing when all is there. Needs root
// (or sudo -n) to install.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const wanted = readFileSync(path.join(root, "test/system-packages.txt"), "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*/, "").trim())
  .filter(Boolean);
/** .debs unpacked (dpkg -x) together into .deps/<dir>: one tree per daemon, as its files would lie on a host. */
const unpacked = [
  { dir: "postfix", debs: ["postfix"] },
  { dir: "dovecot", debs: ["dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"] },
  { dir: "opensmtpd", debs: ["opensmtpd", "opensmtpd-filter-rspamd"] },
  { dir: "rspamd", debs: ["rspamd"] },
];

const installed = (pkg) =>
  spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" }).stdout.startsWith("install ok installed");

const asRoot = (cmd, args) => {
  const isRoot = process.getuid?.() === 0;
  const [c, a] = isRoot ? [cmd, args] : ["sudo", ["-n", cmd, ...args]];
  const r = spawnSync(c, a, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.status !== 0) {
    console.error(`test-deps: '${cmd} ${args.join(" ")}' failed; the end-to-end tests need root (or passwordless sudo) to install Debian packages`);
    process.exit(1);
  }
};

let updated = false;
const update = () => {
  if (!updated) asRoot("apt-get", ["update", "-qq"]);
  updated = true;
};

const missing = wanted.filter((p) => !installed(p));
if (missing.length > 0) {
  update();
  asRoot("apt-get", ["install", "-y", "-q", ...missing]);
}

const depsDir = path.join(root, ".deps");
const dl = path.join(depsDir, "download");
const download = (pkg) => {
  const find = () => readdirSync(dl).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (find()) return path.join(dl, find());
  let r = spawnSync("apt-get", ["download", pkg], { cwd: dl, stdio: "inherit" });
  if (r.status !== 0) {
    update();
    r = spawnSync("apt-get", ["download", pkg], { cwd: dl, stdio: "inherit" });
  }
  const deb = find();
  if (r.status !== 0 || !deb) {
    console.error(`test-deps: cannot download ${pkg}.deb`);
    process.exit(1);
  }
  return path.join(dl, deb);
};
for (const { dir, debs } of unpacked) {
  const dest = path.join(depsDir, dir);
  if (existsSync(path.join(dest, ".complete"))) continue;
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  mkdirSync(dl, { recursive: true });
  for (const pkg of debs) execFileSync("dpkg", ["-x", download(pkg), dest]);
  execFileSync("touch", [path.join(dest, ".complete")]);
}
