// Where the CLI writes: results to stdout, logs/errors to stderr. Injected so
// tests and the one exit point in main() see exactly what a user sees.
export interface Io {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * `ocm list | head -1` closes the pipe while ocm still writes: the rest of
 * the output has no reader, which is not a failure of the command (as with
 * cat or ls). Any other error on stdout still surfaces.
 */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

export function processIo(): Io {
  ignoreClosedPipe(process.stdout);
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  };
}
