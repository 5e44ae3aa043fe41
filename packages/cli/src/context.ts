// Builds the operations context from the global --root flag and environment.
import type { Command } from 'commander';
import { DeploymentRoot, resolveRoot, defaultActor } from '@ocm/store';
import type { OpsContext } from '@ocm/ops';
import type { Io } from './io.js';
import { useEngineOf } from './engine-factory.js';

export function opsContext(command: Command, io: Io): OpsContext {
  const globals = command.optsWithGlobals<{ root?: string }>();
  const root = new DeploymentRoot(resolveRoot(globals.root, io.env));
  useEngineOf(root.path);
  return { root, actor: defaultActor() };
}
