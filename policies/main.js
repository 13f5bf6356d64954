// The pack's entry. In the repository (index.ts beside this file) it runs the sources, which
// Pulumi's runner compiles with ts-node, so `pulumi preview --policy-pack policies` never runs a
// stale bundle; in the published package (only main.js, dist/ and PulumiPolicy.yaml) it runs
// the bundle that prepack built.
const { existsSync } = require("node:fs");
const { join } = require("node:path");

if (existsSync(join(__dirname, "index.ts"))) {
  module.exports = require("./index.ts");
} else if (existsSync(join(__dirname, "dist", "index.js"))) {
  module.exports = require("./dist/index.js");
} else {
  throw new Error("istio-mtls policy pack: dist/index.js is missing; the package was packed without its prepack build (npm run build:policies)");
}
