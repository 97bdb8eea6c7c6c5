import { runCli } from './main.js';
import { nodeIo } from './node-io.js';

// a synchronous throw must land in the handler below too (not as an uncaught exception)
Promise.resolve()
  .then(() => runCli(process.argv.slice(2), nodeIo()))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vfio-arm-emu: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
