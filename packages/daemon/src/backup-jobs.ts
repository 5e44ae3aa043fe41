// Backups started through the API run as jobs: POST answers 202 at once with
// an id, GET /api/backups/jobs/:id tells how it went. A run over every user
// can take minutes (each gateway is paused or stopped in turn), longer than
// an HTTP client should wait. Jobs live in memory; the last result per user
// is also on disk (lastBackupResult), so a restart loses nothing important.
import { randomBytes } from 'node:crypto';
import { isOcmError } from '@ocm/core';
import type { UserBackupOutcome } from '@ocm/ops';
import type { SerialLane } from './serial-lane.js';

export interface BackupJob {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  /** Users asked for; empty means every user. */
  names: string[];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  outcomes?: UserBackupOutcome[];
  error?: { code: string; message: string };
}

export interface BackupJobsOptions {
  lane: SerialLane;
  run: (names: string[]) => Promise<UserBackupOutcome[]>;
  now?: () => number;
  /** Finished jobs kept for lookup (default 100). */
  keep?: number;
}

export class BackupJobs {
  readonly #jobs = new Map<string, BackupJob>();
  readonly #options: BackupJobsOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: BackupJobsOptions) {
    this.#options = options;
  }

  start(names: string[]): BackupJob {
    const now = this.#options.now ?? Date.now;
    const job: BackupJob = { id: `b-${now().toString(36)}-${randomBytes(4).toString('hex')}`, state: 'queued', names, createdAt: new Date(now()).toISOString() };
    this.#jobs.set(job.id, job);
    this.#trim();
    const done = this.#options.lane
      .run(async () => {
        job.state = 'running';
        job.startedAt = new Date(now()).toISOString();
        job.outcomes = await this.#options.run(names);
        job.state = job.outcomes.every((o) => o.ok) ? 'done' : 'failed';
      })
      .catch((error: unknown) => {
        job.state = 'failed';
        job.error = isOcmError(error) ? { code: error.code, message: error.message } : { code: 'OCM_E_BACKUP_FAILED', message: String((error as Error).message ?? error) };
      })
      .finally(() => {
        job.finishedAt = new Date(now()).toISOString();
        this.#pending.delete(done);
      });
    this.#pending.add(done);
    return job;
  }

  get(id: string): BackupJob | undefined {
    return this.#jobs.get(id);
  }

  /** Waits for the jobs that were started; used when the daemon stops. */
  async settle(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  #trim(): void {
    const keep = this.#options.keep ?? 100;
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size <= keep) break;
      if (job.finishedAt !== undefined) this.#jobs.delete(id);
    }
  }
}
