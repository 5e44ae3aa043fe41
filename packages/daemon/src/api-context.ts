// What every admin route handler is given: the root, Docker, and a way to
// tell the daemon that ocm.yaml just changed (so routes follow at once
// instead of on the next watch event).
import type { FastifyRequest } from 'fastify';
import type { DeploymentRoot } from '@ocm/store';
import type { ContainerEngine } from '@ocm/engine';
import type { RuntimeContext } from '@ocm/ops';
import { actorOf } from './auth.js';

export interface ApiDeps {
  root: DeploymentRoot;
  engine: ContainerEngine;
  /** Called after an edit of ocm.yaml made through the API. */
  edited: () => void;
}

export function runtimeOf(deps: ApiDeps, request: FastifyRequest): RuntimeContext {
  return { root: deps.root, engine: deps.engine, actor: actorOf(request) };
}
