import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Identifier, Profile, Registration } from '../../lib/customer';
import { newCustomerId } from '../../lib/registration/register';
import { documentClient } from '../../lib/store/client';
import { planCreateCustomer } from '../../lib/store/plans';

// The floor of a warm invocation: parse the JSON body, build the same transaction as the
// service (planCreateCustomer) and send it through the same client. No authentication, rate
// limit, validation, normalisation, logging or middleware; what every implementation must at
// least do to register a customer.

interface Body {
  profiles: { source?: string; firstName?: string; lastName?: string; identifiers: Identifier[] }[];
}

export async function floorHandler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const body = JSON.parse(event.body ?? '') as Body;
  const createDate = new Date().toISOString();
  const profiles = body.profiles.map((p): Profile => ({
    source: (p.source ?? 'INSTORE') as Profile['source'],
    accountId: '',
    firstName: p.firstName,
    lastName: p.lastName,
    identifiers: p.identifiers,
    fields: {},
    commChannels: [],
    createDate,
    createdBy: 'demo.till',
  }));
  const registration: Registration = {
    orgId: 100,
    loyaltyType: 'loyalty',
    profiles,
    extendedFields: {},
    enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }],
    createDate,
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    customerLevelParts: [],
    warnings: [],
  };
  const customerId = newCustomerId();
  await documentClient().send(new TransactWriteCommand(planCreateCustomer(registration, customerId).input));
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ createdId: customerId, warnings: [], sideEffects: [] }),
  };
}
