// Operations that touch containers get the engine too; the CLI and daemon
// pass the one real DockerEngine.
import type { ContainerEngine } from '@ocm/engine';
import type { PolicyContext } from './network-policy.js';

export interface RuntimeContext extends PolicyContext {
  engine: ContainerEngine;
}
