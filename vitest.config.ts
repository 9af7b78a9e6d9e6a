import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    globalSetup: ["test/support/build.ts"],
    // the composition root: the registered roles handed to the engine, as the command does
    setupFiles: ["src/cli/wiring.ts"],
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      // End-to-end tests start real daemons and some change this machine (/etc/nullmailer): one file at a time.
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], fileParallelism: false } },
    ],
  },
});
