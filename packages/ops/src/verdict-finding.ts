// A pure verdict from core as one of doctor's findings: a warning stays ok.
import type { Verdict } from '@ocm/core';
import type { Finding } from './doctor.js';

export const finding = (scope: string, check: string, v: Verdict): Finding => ({
  scope, check, ok: v.level !== 'fail', ...(v.level === 'warn' ? { warn: true } : {}), detail: v.detail, ...(v.fix === undefined ? {} : { fix: v.fix }),
});
