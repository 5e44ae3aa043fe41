// The systemd unit `ocm daemon install` writes: the daemon in the foreground,
// restarted on failure, with the hardening that still lets it reach the
// Docker socket, write the deployment root and signal nginx.
import { OcmError, quote } from '@ocm/core';

export const UNIT_PATH = '/etc/systemd/system/ocm.service';

export interface UnitOptions {
  /** Absolute path of node. */
  nodePath: string;
  /** Absolute path of bin/ocm. */
  ocmBin: string;
  /** Absolute deployment root. */
  root: string;
  /** Run as this user (must be able to use Docker); default root. */
  user?: string;
}

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const PATH = /^\/[A-Za-z0-9._\-/+@]*$/;

function assertPath(value: string, what: string): void {
  if (!PATH.test(value)) throw new OcmError('OCM_E_USAGE', `${what} ${quote(value)} cannot be written into a unit file`, { hint: 'use an absolute path without spaces or quotes' });
}

export function renderSystemdUnit(options: UnitOptions): string {
  assertPath(options.nodePath, 'node path');
  assertPath(options.ocmBin, 'ocm path');
  assertPath(options.root, 'deployment root');
  if (options.user !== undefined && !USER.test(options.user)) {
    throw new OcmError('OCM_E_USAGE', `--user ${quote(options.user)} is not a user name`, { hint: 'e.g. --user ocm' });
  }
  const asRoot = options.user === undefined || options.user === 'root';
  const identity = asRoot
    ? [
      '# As root: chown for gateway dirs, read/write uid-1000 state for backups, signal nginx, bind low ports.',
      'CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_KILL CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID',
    ]
    : [
      `User=${options.user}`,
      '# Docker access is root-equivalent: only give this user the docker group.',
      'SupplementaryGroups=docker',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    ];
  return `# managed by ocm: written by \`ocm daemon install\`.
[Unit]
Description=ocm daemon: admin API, status page, proxy and backups for ${options.root}
After=network-online.target docker.service
Wants=network-online.target docker.service

[Service]
Type=simple
ExecStart=${options.nodePath} ${options.ocmBin} --root ${options.root} daemon
Environment=NODE_ENV=production
Restart=on-failure
RestartSec=5s
# SIGTERM drains: in-flight requests finish, WebSockets get 1001, a running backup completes.
KillSignal=SIGTERM
TimeoutStopSec=120
${identity.join('\n')}
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=full
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
UMask=0022

[Install]
WantedBy=multi-user.target
`;
}
