// `GET /v2/customers/{id}/export` (SPEC section 12): a data subject's access request answered
// as one document, for tills the org allows to export (others 403 whatever the id, so that a
// till cannot probe). A read of one version of the customer (a strongly consistent query of
// its partition), counted against the org's per-minute limit like every route that can be
// scripted over many ids. The request's log line names the customer, never a value.

import type { Caller } from '../auth';
import { ApiError, Code } from '../errors';
import { takeRequest } from '../rateLimit';
import type { ExportCustomerResponse } from '../schemas/responses.schema';
import { loadCustomer } from '../store/customers';
import { readAllHistory } from '../store/history';
import { liveRecordKeys } from '../store/idempotencyRecords';
import { answer, type Answer } from './answer';
import { customerDocument, profileDocument } from './customerDocument';
import { customerIdOf, customerNotFound } from './reads';
import { withRateHeaders } from './writes';

export async function exportCustomer(caller: Caller, rawId: string | undefined, now: () => Date = () => new Date()): Promise<Answer> {
  const { org, till } = caller;
  if (!(org.exportingTills ?? []).includes(till)) throw ApiError.of(Code.forbidden, `till ${till} may not export customers`);
  const id = customerIdOf(rawId);
  if (id === undefined) throw customerNotFound();
  const rate = await takeRequest(org);
  return withRateHeaders(rate.headers, async () => {
    const customer = await loadCustomer(org.orgId, id, { consistent: true });
    if (!customer || customer.activity !== 'ACTIVE') throw customerNotFound();
    const body: ExportCustomerResponse = {
      customer: customerDocument(customer, org) as ExportCustomerResponse['customer'],
      profiles: customer.profiles.map(profileDocument) as ExportCustomerResponse['profiles'],
      enrollments: customer.enrollments,
      history: (await readAllHistory(org.orgId, id)) as ExportCustomerResponse['history'],
      idempotencyKeys: liveRecordKeys(customer.recordEntries ?? []),
      generatedAt: now().toISOString(),
    };
    return answer(200, body, 'exported', rate.headers);
  });
}
