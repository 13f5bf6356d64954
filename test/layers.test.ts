/**
 * The layering the README's Layout section promises, read from the import statements of every
 * source file: which folder may import which, no Pulumi in mesh/ or probe/, no import loops.
 */
import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const SKIP = new Set(["node_modules", "test", "bench", "tools", ".git", "dist", ".build"]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return SKIP.has(name) ? [] : sources(path);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [relative(ROOT, path)] : [];
  });
}

/** What a file imports: our modules as project-relative paths, packages by name. */
function importsOf(file: string): { ours: string[]; packages: string[] } {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|require\("([^"]+)"\)|import\("([^"]+)"\)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  const ours: string[] = [];
  const packages: string[] = [];
  for (const s of specs) {
    if (!s.startsWith(".")) packages.push(s);
    else ours.push(resolveModule(relative(ROOT, resolve(ROOT, dirname(file), s))));
  }
  return { ours, packages };
}

function resolveModule(p: string): string {
  for (const candidate of [`${p}.ts`, join(p, "index.ts"), p]) {
    try {
      if (statSync(join(ROOT, candidate)).isFile()) return candidate;
    } catch {
      // try the next form
    }
  }
  return p;
}

/** The layer of a file: its top folder, `config.ts` with config/, `index.ts` the stack. */
function layer(file: string): string {
  if (file === "config.ts") return "config";
  return file.includes("/") ? file.split("/")[0] : file;
}

const MAY_IMPORT: Record<string, string[]> = {
  mesh: ["mesh"],
  probe: ["probe", "mesh"],
  config: ["config", "mesh"],
  policies: ["policies", "mesh"],
  components: ["components", "mesh", "probe"],
  cli: ["cli", "mesh", "config", "probe", "policies"],
};

const files = sources(ROOT);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test("each folder imports only the folders below it", (t) => {
  const wrong = files.flatMap((f) => {
    const allowed = MAY_IMPORT[layer(f)];
    if (!allowed) return [];
    return graph.get(f)!.ours.filter((to) => !allowed.includes(layer(to))).map((to) => `${f} → ${to}`);
  });
  t.deepEqual(wrong, []);
  t.true(files.includes("mesh/plan.ts") && files.includes("index.ts"), "the scan sees the source");
});

test("mesh/ and probe/ do not import Pulumi", (t) => {
  const wrong = files.filter((f) => ["mesh", "probe"].includes(layer(f)) && graph.get(f)!.packages.some((p) => p.startsWith("@pulumi/")));
  t.deepEqual(wrong, []);
});

test("no import loops", (t) => {
  const state = new Map<string, "open" | "done">();
  const loops: string[] = [];
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      loops.push([...path.slice(path.indexOf(f)), f].join(" → "));
      return;
    }
    state.set(f, "open");
    for (const to of graph.get(f)?.ours ?? []) visit(to, [...path, f]);
    state.set(f, "done");
  };
  for (const f of files) visit(f, []);
  t.deepEqual(loops, []);
});
