// Bundles the pack (index.ts and what it imports from ../mesh and ../config, yaml and zod) into
// dist/index.js, so that the package `npm pack` (and `pulumi policy publish`) makes is
// self-contained. @pulumi/policy and @pulumi/pulumi stay external: they are the package's
// dependencies, and the analyzer server and the engine's runner must share one copy of each.
// Runs as the package's prepack and as `npm run build:policies` at the root.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [join(here, "index.ts")],
  outfile: join(here, "dist", "index.js"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node22",
  external: ["@pulumi/policy", "@pulumi/pulumi"],
  tsconfig: join(here, "tsconfig.json"),
  sourcemap: false,
  legalComments: "eof",
  logLevel: "warning",
});
