// The admin listener as a fastify app (not listening): JSON API under /api,
// the status page on /. Auth, error shape and schemas are set up here once
// for every route; the routes themselves live in one module per area.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { OcmError } from '@ocm/core';
import type { DeploymentRoot } from '@ocm/store';
import type { ContainerEngine } from '@ocm/engine';
import type { Logger } from 'pino';
import { registerBackupRoutes } from './api-backups.js';
import { registerRuntimeRoutes } from './api-runtime.js';
import { registerDeviceRoutes } from './api-devices.js';
import { registerUserRoutes } from './api-users.js';
import { runtimeOf } from './api-context.js';
import { registerAuth, type Access } from './auth.js';
import type { BackupJobs } from './backup-jobs.js';
import { frameworkErrors, registerErrorHandling } from './errors.js';
import { FailureLimiter } from './failure-limiter.js';
import { registerPageRoutes } from './page-routes.js';
import { SessionStore } from './sessions.js';
import { statusReport, type StatusSources } from './status-report.js';
import { registerUsageRoutes } from './api-usage.js';
import type { UsageStore } from '@ocm/meter';
import { spendByDay } from './model-spend.js';
import { CHART_DAYS, spendSection } from './spend-section.js';
import { registerChallengeRoute, registerTlsRoutes, type TlsControl } from './api-tls.js';

export interface AdminAppOptions {
  root: DeploymentRoot;
  engine: ContainerEngine;
  adminToken: string;
  logger: Logger;
  jobs: BackupJobs;
  now?: () => number;
  sessions?: SessionStore;
  limiter?: FailureLimiter;
  /** What the daemon adds to GET /api/status. */
  status?: Omit<StatusSources, 'ctx' | 'now'>;
  /** Called after the API edited ocm.yaml. */
  edited?: () => void;
  /** Called after the API started, stopped or restarted a gateway: the proxy's routes follow before the reply. */
  gatewaysChanged?: (name: string) => Promise<void>;
  /** The model meter's usage store, when it runs. */
  usage?: () => UsageStore | undefined;
  /** ACME certificates: GET /api/tls and POST /api/tls/renew (absent: 404). */
  tls?: TlsControl;
  /** nginx with ACME: the open HTTP-01 answers, served unauthenticated to the CA (through nginx). */
  challenges?: (path: string) => string | undefined;
  /** Requests per minute per client before 429 (default 600); failed tokens have their own, lower limit. */
  requestsPerMinute?: number;
}

export interface AdminRoute {
  method: string;
  url: string;
  access: Access;
}

const routeLists = new WeakMap<FastifyInstance, AdminRoute[]>();

/** Every route the admin app serves, with who may call it (for tests and docs). */
export function adminRoutes(app: FastifyInstance): readonly AdminRoute[] {
  return routeLists.get(app) ?? [];
}

export async function buildAdminApp(options: AdminAppOptions): Promise<FastifyInstance> {
  const now = options.now ?? Date.now;
  // Typed as fastify's own logger interface, so the app is a plain FastifyInstance.
  const logger: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance: logger,
    // One line per request is logged by the onResponse hook below, at debug for reads.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    trustProxy: false,
    return503OnClosing: true,
    frameworkErrors,
    // Refuse what does not match a schema instead of coercing or silently dropping it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allowUnionTypes: true } },
  });
  const routes: AdminRoute[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, access: route.config?.access ?? 'token' });
  });

  registerErrorHandling(app);
  await app.register(rateLimit, {
    global: true,
    max: options.requestsPerMinute ?? 600,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => new OcmError('OCM_E_RATE_LIMITED', `more than ${context.max} requests a minute from this address`),
  });
  const sessions = options.sessions ?? new SessionStore({ now });
  const limiter = options.limiter ?? new FailureLimiter({ now });
  registerAuth(app, { adminToken: options.adminToken, sessions, limiter });

  // A POST without a body is an empty object, so a missing field is named rather than "body must be object".
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
  });
  app.addHook('onResponse', async (request, reply) => {
    const line = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (request.method === 'GET' || request.method === 'HEAD') request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });

  const deps = { root: options.root, engine: options.engine, edited: options.edited ?? (() => undefined) };
  registerPageRoutes(app, { adminToken: options.adminToken, sessions, limiter, spend: async () => {
    const store = options.usage?.();
    return store === undefined ? '' : spendSection(spendByDay((await options.root.load()).manifest, store, now(), CHART_DAYS));
  } });
  registerUserRoutes(app, deps);
  registerRuntimeRoutes(app, {
    ...deps,
    ...(options.gatewaysChanged === undefined ? {} : { gatewaysChanged: options.gatewaysChanged }),
    status: (request) => statusReport({ ctx: runtimeOf(deps, request), now, ...options.status }),
  });
  registerBackupRoutes(app, { ...deps, jobs: options.jobs });
  registerDeviceRoutes(app, deps);
  registerUsageRoutes(app, { root: options.root, usage: options.usage ?? (() => undefined), now });
  if (options.tls !== undefined) registerTlsRoutes(app, options.tls);
  if (options.challenges !== undefined) registerChallengeRoute(app, options.challenges);
  await app.ready();
  return app;
}
