/**
 * Where a Helm chart comes from: a chart repository (https:// or oci://) or a local folder of
 * unpacked charts, one folder per chart named as the chart (what `helm pull --untar` writes), as
 * air-gapped installations mirror them. The config resolves a local folder to an absolute path.
 */
import { join } from "node:path";

export function isLocalChartFolder(repository: string): boolean {
  return repository.startsWith("/");
}

/** The chart and repository arguments of a Helm release: a local chart is its folder, with no repository. */
export function chartSource(chart: string, repository: string | undefined): { chart: string; repositoryOpts?: { repo: string } } {
  if (repository === undefined) return { chart };
  return isLocalChartFolder(repository) ? { chart: join(repository, chart) } : { chart, repositoryOpts: { repo: repository } };
}
