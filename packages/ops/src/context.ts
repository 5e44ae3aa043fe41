// What every operation is handed: the root on disk and who is acting. The
// CLI and the daemon build one of these and call the same functions.
import type { DeploymentRoot } from '@ocm/store';

export interface OpsContext {
  root: DeploymentRoot;
  /** Written to audit.log: "cli:alice", "api". */
  actor: string;
}
