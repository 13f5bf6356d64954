#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx registers the loader, so no build step is needed.
require("tsx/cjs");
require("../cli/main.ts");
