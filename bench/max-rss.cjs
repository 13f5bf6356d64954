// Preloaded by bench/plan.ts into the command it measures: reports the process's peak resident memory on exit.
process.on("exit", () => process.stderr.write(`\nmax-rss-kb ${process.resourceUsage().maxRSS}\n`));
