/** Stack settings for tests: the config's defaults (as an empty stack file gets them) under the given sections. */
import { loadStackConfig, type StackConfig } from "../../config";

export function stackSettings(sections: Partial<StackConfig> = {}): StackConfig {
  return { ...loadStackConfig(() => undefined), ...sections };
}
