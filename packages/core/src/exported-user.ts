// The user entry inside an export, read through the manifest's own user
// schema: every field an export writes is checked as ocm.yaml would check it,
// and a bad one is refused in one line naming it, before anything changes.
import * as z from 'zod';
import { OcmError, quote } from './errors.js';
import { envKeyProblem } from './env-vars.js';
import { GroupName, UserSchema } from './manifest-schema.js';
import { formatPath, issueMessage } from './manifest.js';

const EnvKeyName = z.string().superRefine((key, ctx) => {
  const problem = envKeyProblem(key);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `key ${quote(key)} ${problem}` });
});

/**
 * What an export writes: the user's entry without its port (the target
 * allocates its own) and env values (only their names travel). Keys an export
 * does not write are left out, not refused.
 */
export const ExportedUserSchema = z.object({
  ...UserSchema.omit({ port: true, env: true }).shape,
  envKeys: z.array(EnvKeyName).max(4096).default([]).describe('names of the env entries the user had; their values stay behind'),
  sourceGateway: z.strictObject({
    allowedOrigins: z.array(z.string().max(2048)).max(16),
    trustedProxies: z.array(z.string().max(64)).max(16),
  }).optional().describe('what the source root merged into her openclaw.json, for the import to take out; older exports have none'),
  group: GroupName.optional().describe('the model group she was in at the source; exports from before it was recorded have none'),
});

export type ExportedUserEntry = z.output<typeof ExportedUserSchema>;

export function parseExportedUser(file: string, raw: unknown): ExportedUserEntry {
  const result = ExportedUserSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  if (issue.path.length === 0) {
    throw new OcmError('OCM_E_IMPORT_INVALID', `${file}: the exported user's entry is not a mapping`, { details: { file, field: 'entry' } });
  }
  const { path, text } = issueMessage(issue, raw);
  throw new OcmError('OCM_E_IMPORT_INVALID', `${file}: the exported user's ${text}`, { details: { file, field: formatPath(path) } });
}
