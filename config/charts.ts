/**
 * Local chart folders (`istio.chartRepository`, `certManager.chartRepository` set to a folder):
 * checked on disk before anything is planned, so a missing chart or one of another version is a
 * config error naming the key and the file, not a Helm failure halfway through `pulumi up`.
 * The stack installs the version it is configured for: the model and the policy pack read that
 * version, so a local chart of another version is refused rather than installed.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { isLocalChartFolder } from "../mesh/chart-source";
import type { StackSettings } from "../mesh/settings";
import { issue, type ConfigIssue, type ConfigPath } from "./errors";

/** The charts each installer needs from its folder. */
export function localChartsOf(s: Pick<StackSettings, "istio" | "certManager">): { key: "istio" | "certManager"; folder: string; version: string; charts: string[] }[] {
  const out = [];
  if (s.istio.install && isLocalChartFolder(s.istio.chartRepository)) {
    out.push({ key: "istio" as const, folder: s.istio.chartRepository, version: s.istio.version, charts: ["base", "istiod", ...(s.istio.ingressGateway ? ["gateway"] : [])] });
  }
  const cm = s.certManager.chartRepository;
  if (s.certManager.install && cm !== undefined && isLocalChartFolder(cm)) {
    out.push({ key: "certManager" as const, folder: cm, version: s.certManager.version, charts: ["cert-manager"] });
  }
  return out;
}

export function checkLocalCharts(s: Pick<StackSettings, "istio" | "certManager">): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const { key, folder, version, charts } of localChartsOf(s)) {
    const at: ConfigPath = [key, "chartRepository"];
    const layout = `one folder per chart, as \`helm pull --untar\` writes them: ${charts.map((c) => `${c}/`).join(", ")}`;
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      issues.push(issue(at, folder, "is not a folder", layout));
      continue;
    }
    for (const chart of charts) {
      const file = join(folder, chart, "Chart.yaml");
      if (!existsSync(file)) {
        issues.push(issue(at, folder, `has no ${chart}/Chart.yaml`, layout));
        continue;
      }
      let meta: { name?: unknown; version?: unknown };
      try {
        meta = (parse(readFileSync(file, "utf8")) ?? {}) as typeof meta;
      } catch (e) {
        issues.push(issue(at, folder, `has a ${chart}/Chart.yaml that is not YAML (${(e as Error).message.split("\n")[0]})`, layout));
        continue;
      }
      if (meta.name !== chart) {
        issues.push(issue(at, folder, `has ${chart}/Chart.yaml of chart ${JSON.stringify(meta.name)}`, layout));
      } else if (String(meta.version) !== version) {
        issues.push(issue([key, "version"], version, `is not the version of ${file} (${JSON.stringify(meta.version)})`, `${meta.version}, or charts of version ${version}`));
      }
    }
  }
  return issues;
}
