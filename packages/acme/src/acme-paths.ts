// Where ACME material lives under the deployment root (core's root layout): nowhere a gateway container mounts.
import { rootLayout, type CertFiles } from '@ocm/core';

export type HostFiles = CertFiles;

export const acmeDir = (root: string): string => rootLayout(root).acme;
export const accountKeyPath = (root: string): string => `${acmeDir(root)}/account.key`;
export const hostFiles = (root: string, host: string): HostFiles => rootLayout(root).acmeHost(host);
