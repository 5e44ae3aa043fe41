// Operations that touch containers get the engine too; the CLI and daemon
// pass the one real DockerEngine.
import type { ContainerEngine } from '@ocm/engine';
import type { OpsContext } from './context.js';

export interface RuntimeContext extends OpsContext {
  engine: ContainerEngine;
}
