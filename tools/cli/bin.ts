import { runCli, setCommandsLoader } from './main.js';
import { markStdoutClosed, nodeIo } from './node-io.js';

// list/run/matrix/trace: preferably from the code-cached bundle (commands-loader.ts), whose
// loader is itself imported only for them (`--version` and usage errors stay as lean as before)
setCommandsLoader(async (cmd, argv) => (await import('./commands-loader.js')).loadCommands(cmd, argv));

/**
 * A closed stdout pipe (`vfio-arm-emu list | head -1`): stop quietly as Unix tools do when
 * SIGPIPE ends them (no message; status 141 = 128 + SIGPIPE, what a shell reports for them).
 */
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') {
    markStdoutClosed();
    process.exit(141);
  }
  process.stderr.write(`vfio-arm-emu: cannot write to stdout: ${e.code ?? e.message}\n`);
  process.exit(2);
});

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
