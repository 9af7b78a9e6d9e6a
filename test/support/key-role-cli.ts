// The mailfleet command with the test-only role of ./key-role.ts registered
// beside the real ones (see testKeysCli). The engine reads the registry when
// a command first needs it, so the role is added before main is loaded.
import { roles, type Role } from "../../roles/index.ts";
import { testKeys } from "./key-role.ts";

(roles as Role[]).push(testKeys);
const { main } = await import("../../src/cli/main.ts");
process.exitCode = await main(process.argv);
