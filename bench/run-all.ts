/**
 * `npm run bench`: runs every benchmark in bench/ one after another and prints its table.
 * Arguments after `--` go to each benchmark (e.g. `npm run bench -- --conversations=1000`).
 */
import { main as engineThroughput } from "./engine-throughput.ts";

const benches: { name: string; run: (args: string[]) => Promise<void> }[] = [{ name: "engine-throughput", run: engineThroughput }];

for (const bench of benches) {
  console.log(`== ${bench.name}`);
  try {
    await bench.run(process.argv.slice(2));
  } catch (err) {
    console.error(`${bench.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
