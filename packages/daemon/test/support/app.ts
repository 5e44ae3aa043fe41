// The admin app alone (no listeners, no proxy) on a root, for inject() tests.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { DockerEngine } from '@ocm/engine';
import { DeploymentRoot } from '@ocm/store';
import { BackupJobs, SerialLane, buildAdminApp, createDaemonLogger } from '@ocm/daemon';

export interface TestApp {
  app: FastifyInstance;
  token: string;
  logs: string[];
}

export async function adminApp(root: string, options: { now?: () => number } = {}): Promise<TestApp> {
  const logs: string[] = [];
  const logger = createDaemonLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
  const token = readFileSync(`${root}/admin.token`, 'utf8').trim();
  const jobs = new BackupJobs({ lane: new SerialLane(), run: async () => [] });
  const app = await buildAdminApp({ root: new DeploymentRoot(root), engine: new DockerEngine(), adminToken: token, logger, jobs, ...options });
  return { app, token, logs };
}
