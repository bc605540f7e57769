// What a job registers against, checked before any line is read: the org (from the stage's
// table: an unknown org, or a table that is not there, is one clear error) and the till lines are
// registered by (`--till`, default the org's first till).

import { getOrgConfig } from '../store/orgs';
import { ApiError } from '../errors';
import { tableName } from '../config';
import { ImportError } from './errors';
import type { ImportTarget } from './lineCore';

export async function loadTarget(orgId: number, till: string | undefined, job: string): Promise<ImportTarget> {
  let org;
  try {
    org = await getOrgConfig(orgId);
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') throw new ImportError(`table ${tableName()} does not exist`);
    if (error instanceof ApiError) throw new ImportError(`table ${tableName()} cannot be reached: ${error.message}`);
    throw new ImportError(`table ${tableName()} cannot be read: ${(error as Error).name}: ${(error as Error).message}`);
  }
  if (!org) throw new ImportError(`org ${orgId} does not exist in table ${tableName()}`);
  if (till !== undefined && !org.tills.includes(till)) throw new ImportError(`till ${till} is not a till of org ${orgId}`);
  const chosen = till ?? org.tills[0];
  if (chosen === undefined) throw new ImportError(`org ${orgId} has no tills; pass --till`);
  return { org, till: chosen, job };
}
