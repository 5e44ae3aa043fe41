// Backups through the API: POST /api/backups queues a job that runs
// backupUsers (202 + job id), the job is read back by id, and the archives
// a user has are listed as `ocm backups` lists them.
import type { FastifyInstance } from 'fastify';
import { OcmError } from '@ocm/core';
import { listUserBackups } from '@ocm/ops';
import { runtimeOf, type ApiDeps } from './api-context.js';
import type { BackupJobs } from './backup-jobs.js';
import { backupBody, backupsQuery, jobParams } from './schemas.js';

export function registerBackupRoutes(app: FastifyInstance, deps: ApiDeps & { jobs: BackupJobs }): void {
  // The status page's "Back up" uses these two with its session (and CSRF token).
  app.post<{ Body: { names?: string[] } }>('/api/backups', { schema: { body: backupBody }, config: { access: 'session' } }, async (request, reply) => {
    const names = [...new Set(request.body.names ?? [])];
    // Refuse unknown names now, not minutes later inside the job.
    const { manifest } = await deps.root.load();
    const unknown = names.find((n) => !manifest.users.some((u) => u.name === n));
    if (unknown !== undefined) throw new OcmError('OCM_E_USER_UNKNOWN', `no user named ${JSON.stringify(unknown)}`);
    const job = deps.jobs.start(names);
    request.log.info({ job: job.id, users: names.length === 0 ? 'all' : names }, 'backup job queued');
    return reply.code(202).header('location', `/api/backups/jobs/${job.id}`).send(job);
  });

  app.get<{ Params: { id: string } }>('/api/backups/jobs/:id', { schema: { params: jobParams }, config: { access: 'session' } }, async (request) => {
    const job = deps.jobs.get(request.params.id);
    if (job === undefined) {
      throw new OcmError('OCM_E_BACKUP_MISSING', `no backup job ${JSON.stringify(request.params.id)}`, {
        hint: 'job ids come from POST /api/backups and are kept in memory until the daemon restarts',
      });
    }
    return job;
  });

  app.get<{ Querystring: { name?: string } }>('/api/backups', { schema: { querystring: backupsQuery } }, async (request) => ({
    backups: await listUserBackups(runtimeOf(deps, request), request.query.name),
  }));
}
