// The composition root: the registered roles handed to the engine. Loaded by
// the command before any inventory is read, and by the tests and benchmarks.
import { roles } from "../../roles/index.ts";
import { useCatalog } from "../engine/catalog.ts";

useCatalog(roles);
