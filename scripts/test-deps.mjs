// Installs what the tests need: Debian packages (test/system-packages.txt) and
// .debs unpacked under .deps/ (daemons that cannot be installed here: Postfix and
// OpenSMTPD conflict with nullmailer; the postinsts of Dovecot and rspamd would
// create users and start services), and a nullmailer-inject built from Debian's
// source with the 2.1 fix of the leading From line reverted (the tests of the
// inject shim need the old behaviour; Debian 12 has only 2.2). Does nothing
// when all is there. Needs root (or sudo -n) to install.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const wanted = readFileSync(path.join(root, "test/system-packages.txt"), "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*/, "").trim())
  .filter(Boolean);
/**
 * .debs unpacked (dpkg -x) together into .deps/<dir>: one tree per daemon, as its files would lie on a host.
 * `added`: .debs that came later, unpacked into a tree that is already complete (dpkg -x only adds their
 * files; the tree is not removed, since a test elsewhere may be running from it), each marked done by
 * .complete-<deb>.
 */
const unpacked = [
  { dir: "postfix", debs: ["postfix"] },
  // dovecot-auth-lua: the Lua passdb of the dovecot role's login limits (libdovecot-lua needs liblua5.4-0)
  { dir: "dovecot", debs: ["dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"], added: ["dovecot-auth-lua"] },
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
for (const { dir, debs, added = [] } of unpacked) {
  const dest = path.join(depsDir, dir);
  const addedMissing = () => added.filter((pkg) => !existsSync(path.join(dest, `.complete-${pkg}`)));
  if (existsSync(path.join(dest, ".complete"))) {
    if (addedMissing().length === 0) continue;
  } else {
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    mkdirSync(dl, { recursive: true });
    for (const pkg of debs) execFileSync("dpkg", ["-x", download(pkg), dest]);
    execFileSync("touch", [path.join(dest, ".complete")]);
  }
  mkdirSync(dl, { recursive: true });
  for (const pkg of addedMissing()) {
    execFileSync("dpkg", ["-x", download(pkg), dest]);
    execFileSync("touch", [path.join(dest, `.complete-${pkg}`)]);
  }
}

// nullmailer-inject with the behaviour of nullmailer 2.0: Debian's 2.2 source
// (apt-get source through a private apt configuration with deb-src, so the
// machine's own is untouched) with commit babec3b reverted. About 10 s.
const unfixed = path.join(depsDir, "nullmailer-unfixed");
if (!existsSync(path.join(unfixed, ".complete"))) {
  rmSync(unfixed, { recursive: true, force: true });
  const apt = path.join(unfixed, "apt");
  for (const d of ["etc", "lists/partial", "cache/archives/partial"]) mkdirSync(path.join(apt, d), { recursive: true });
  const sources = path.join(apt, "etc/sources.list");
  const codename = readFileSync("/etc/os-release", "utf8").match(/^VERSION_CODENAME=(\S+)/m)?.[1] ?? "bookworm";
  execFileSync("sh", ["-c", `printf '%s\\n' "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${codename} main" > "$1"`, "sh", sources]);
  const aptArgs = [
    "-q",
    `-o=Dir::Etc::SourceList=${sources}`,
    "-o=Dir::Etc::SourceParts=/nonexistent",
    `-o=Dir::State::Lists=${path.join(apt, "lists")}`,
    `-o=Dir::Cache=${path.join(apt, "cache")}`,
    "-o=APT::Sandbox::User=root",
  ];
  const run = (cmd, args, cwd = unfixed) => {
    const r = spawnSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    if (r.status !== 0) {
      console.error(`${r.stdout}${r.stderr}test-deps: building the unfixed nullmailer-inject: '${cmd} ${args.join(" ")}' failed`);
      process.exit(1);
    }
  };
  run("apt-get", [...aptArgs, "update"]);
  run("apt-get", [...aptArgs, "source", "--download-only", "nullmailer"]);
  const dsc = readdirSync(unfixed).find((f) => /^nullmailer_.*\.dsc$/.test(f));
  run("dpkg-source", ["-x", dsc, "src"]);
  const src = path.join(unfixed, "src");
  run("patch", ["-p1", "-i", path.join(root, "test/fixtures/nullmailer-unfixed/revert-babec3b.patch")], src);
  run("sh", ["autogen.sh"], src);
  run("./configure", ["-q", "--prefix=/usr", "--sysconfdir=/etc", "--localstatedir=/var", "--libexecdir=/usr/lib"], src);
  run("make", ["-s", "-j2", "-C", "lib"], src);
  run("make", ["-s", "-C", "src", "nullmailer-inject"], src);
  execFileSync("cp", [path.join(src, "src/nullmailer-inject"), path.join(unfixed, "nullmailer-inject")]);
  rmSync(src, { recursive: true, force: true });
  rmSync(apt, { recursive: true, force: true });
  execFileSync("touch", [path.join(unfixed, ".complete")]);
}
