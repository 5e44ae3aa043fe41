// Run a command inside a container and collect its exit code and both
// output streams, the way `docker exec` would.
import type Docker from 'dockerode';
import { demuxBuffer } from './demux.js';
import type { ExecOptions, ExecResult } from './engine-types.js';

export async function runExec(container: Docker.Container, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    ...(options.user === undefined ? {} : { User: options.user }),
    ...(options.workingDir === undefined ? {} : { WorkingDir: options.workingDir }),
    ...(options.env === undefined ? {} : { Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) }),
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const { stdout, stderr } = demuxBuffer(Buffer.concat(chunks));
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
}
