/**
 * The pack as `pulumi policy publish` ships it: `npm pack` in policies/ (its prepack bundles
 * index.ts with ../mesh and ../config), unpacked alone outside the repository, with only its
 * declared dependencies (@pulumi/*, linked from the repository's node_modules: no network).
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asResources, demoMesh, intentConfigMap } from "./helpers";

const root = join(__dirname, "..", "..");
let dir: string;
test.after.always(() => dir && rmSync(dir, { recursive: true, force: true }));

test("npm pack makes a self-contained pack whose bundle runs the policies", (t) => {
  dir = mkdtempSync(join(tmpdir(), "istio-mtls-pack-"));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: join(root, "policies"), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  // npm prints prepack's output before the JSON.
  const [packed] = JSON.parse(out.slice(out.indexOf("[\n"))) as { filename: string; files: { path: string }[] }[];
  t.deepEqual(packed.files.map((f) => f.path).sort(), ["PulumiPolicy.yaml", "README.md", "dist/index.js", "main.js", "package.json"]);

  execFileSync("tar", ["-xzf", join(dir, packed.filename), "-C", dir]);
  const pkg = join(dir, "package");
  const bundle = readFileSync(join(pkg, "dist", "index.js"), "utf8");
  t.notRegex(bundle, /require\(["']\.\.?\/(\.\.\/)*(mesh|config)\b/);
  t.deepEqual([...new Set(bundle.match(/require\("[^".][^"]*"\)/g))].sort(), ['require("@pulumi/policy")', 'require("buffer")', 'require("process")']);
  mkdirSync(join(pkg, "node_modules"));
  symlinkSync(join(root, "node_modules", "@pulumi"), join(pkg, "node_modules", "@pulumi"), "dir");

  // Requiring the pack starts its analyzer (it prints its port); the result follows a marker line.
  const resources = asResources([...demoMesh(), intentConfigMap(true)]);
  const script = `
    const pack = require("./");
    pack.runPolicies(pack.istioMtlsPolicies(), ${JSON.stringify(resources)})
      .then((f) => { process.stdout.write("\\n--findings--\\n" + JSON.stringify(f)); process.exit(0); })
      .catch((e) => { console.error(e); process.exit(1); });`;
  const result = execFileSync(process.execPath, ["-e", script], { cwd: pkg, encoding: "utf8", timeout: 60_000 });
  const findings = JSON.parse(result.split("--findings--\n")[1]) as { policy: string }[];
  t.deepEqual([...new Set(findings.map((f) => f.policy))].sort(), ["production-mesh-strict", "production-sidecar-exceptions"]);
});
