import type { Card, Identifier, Profile, Registration } from '../../lib/customer';
import type { Source } from '../../lib/vocabulary';

// Registrations built by hand for the unit tests of the rules and the store: an INSTORE till of
// org 100, dated CREATED, enrolled in the default program.

export const CREATED = '2024-06-01T12:00:00.000Z';

export function card(cardNumber: string, generated = false): Card {
  return { cardNumber, seriesId: 501, seriesCode: 'DEMO-GEN', statusLabel: 'ACTIVE', issuedDate: CREATED, generated };
}

export function profile(source: Source, identifiers: Identifier[], extra: { accountId?: string; card?: Card } = {}): Profile {
  const result: Profile = {
    source,
    accountId: extra.accountId ?? '',
    identifiers,
    fields: {},
    commChannels: [],
    createDate: CREATED,
    createdBy: 'demo.till',
  };
  if (extra.card) result.card = extra.card;
  return result;
}

export function registration(...profiles: Profile[]): Registration {
  return {
    orgId: 100,
    loyaltyType: 'loyalty',
    profiles,
    extendedFields: {},
    enrollments: [{ programId: 1, tierNumber: 1, loyaltyPoints: 0 }],
    createDate: CREATED,
    associatedWith: 'demo.till',
    endPointsEnabled: [],
    customerLevelParts: [],
    warnings: [],
  };
}
