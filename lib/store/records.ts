// The items the store writes for customers, as the rest of the service reads them back.
//
// - customer: the customer with the profiles it was created with (lib/customer.ts, Customer);
// - merged profile: one item per profile added later, keyed by source account, so a second
//   profile in one source account cannot be written;
// - identifier: one item per identifier value of the org, holding its customer's id and the
//   source accounts the customer had profiles in when the identifier was claimed. Profiles are
//   never removed, so that list stays true, and a cancelled create tells at once (without a
//   read) that a merge would hit one of those source accounts: 8006.

/** The attributes of an identifier item besides its key. */
export interface IdentifierRecord {
  customerId: number;
  /** Source accounts the customer had profiles in when the identifier was claimed. */
  customerSourceAccounts: string[];
}
