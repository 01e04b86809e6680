// Start-up cost of the benchmark's command alone: node with ts-node registered, no program.
process.stdout.write(`${JSON.stringify({ ms: performance.now(), maxRssKb: process.resourceUsage().maxRSS })}\n`);
