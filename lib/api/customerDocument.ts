import type { OrgConfig } from '../org';
import type { Customer, Profile } from '../customer';

/** The `GET /v2/customers/{id}` document (SPEC section 5) of a stored customer. */
export function customerDocument(customer: Customer, org: OrgConfig) {
  return {
    id: customer.id,
    loyaltyInfo: { loyaltyType: customer.loyaltyType },
    profiles: customer.profiles.map(profileDocument),
    extendedFields: customer.extendedFields,
    cardDetails: customer.profiles.flatMap((p) =>
      p.card
        ? [
            {
              cardNumber: p.card.cardNumber,
              seriesId: p.card.seriesId,
              seriesCode: p.card.seriesCode,
              statusLabel: p.card.statusLabel,
              issuedDate: p.card.issuedDate,
              ...(p.card.fields ? { fields: p.card.fields } : {}),
              ...(p.card.extendedFields ? { extendedFields: p.card.extendedFields } : {}),
            },
          ]
        : [],
    ),
    loyaltyProgramDetails: customer.enrollments.map((e) => {
      const program = org.programs.find((p) => p.id === e.programId);
      return {
        programId: e.programId,
        programName: program?.name ?? null,
        tierNumber: e.tierNumber,
        tierName: program?.tiers.find((t) => t.number === e.tierNumber)?.name ?? null,
        loyaltyPoints: e.loyaltyPoints,
        tierExpiryDate: e.tierExpiryDate ?? null,
        pointsExpiryDate: e.pointsExpiryDate ?? null,
      };
    }),
    associatedWith: customer.associatedWith,
    endPointsEnabled: customer.endPointsEnabled,
    activity: customer.activity,
    warnings: [],
  };
}

export function profileDocument(profile: Profile) {
  return {
    firstName: profile.firstName ?? null,
    lastName: profile.lastName ?? null,
    source: profile.source,
    accountId: profile.accountId || null,
    identifiers: [
      ...profile.identifiers.map(({ type, value }) => ({ type, value })),
      ...(profile.card ? [{ type: 'card', value: profile.card.cardNumber }] : []),
    ],
    commChannels: profile.commChannels,
    fields: profile.fields,
    attribution: {
      createDate: profile.createDate,
      createdBy: { code: profile.createdBy, type: 'TILL' },
      // Only once the profile, or the customer through it, was changed (SPEC section 11).
      ...(profile.modifiedDate ? { modifiedDate: profile.modifiedDate } : {}),
      ...(profile.modifiedBy ? { modifiedBy: { code: profile.modifiedBy, type: 'TILL' } } : {}),
    },
  };
}
