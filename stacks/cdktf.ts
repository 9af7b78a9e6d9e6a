// The one place that loads cdktf (a switch to its fork cdktn changes this
// file and the package names). cdktf and @cdktf/provider-null are CommonJS:
// require() loads them without the ESM loader scanning every one of their
// files for named exports, which costs about 100 ms of CPU per synth.
import { createRequire } from "node:module";
import type * as Cdktf from "cdktf";
import type * as NullProvider from "@cdktf/provider-null/lib/provider/index.js";
import type * as NullResource from "@cdktf/provider-null/lib/resource/index.js";

const require = createRequire(import.meta.url);
const cdktf = require("cdktf") as typeof Cdktf;

export const { App, DataResource, TerraformBackend, TerraformStack } = cdktf;
export type App = Cdktf.App;
export type TerraformResource = Cdktf.TerraformResource;
export type TerraformRemoteState = Cdktf.TerraformRemoteState;

/** hashicorp/null bindings, loaded only for --resource null_resource. */
export function nullProvider(): { NullProvider: typeof NullProvider.NullProvider; Resource: typeof NullResource.Resource } {
  return {
    NullProvider: (require("@cdktf/provider-null/lib/provider/index.js") as typeof NullProvider).NullProvider,
    Resource: (require("@cdktf/provider-null/lib/resource/index.js") as typeof NullResource).Resource,
  };
}
