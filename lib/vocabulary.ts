// The fixed words of the API (SPEC section 3).

export const SOURCES = [
  'INSTORE',
  'FACEBOOK',
  'WEB_ENGAGE',
  'WECHAT',
  'MARTJACK',
  'TMALL',
  'TAOBAO',
  'JD',
  'ECOMMERCE',
  'WEBSITE',
  'LINE',
  'MOBILE_APP',
] as const;
export type Source = (typeof SOURCES)[number];

/** Sources where a brand may run several accounts, so a profile must name one. */
export const MULTI_ACCOUNT_SOURCES: ReadonlySet<Source> = new Set<Source>(['FACEBOOK', 'WECHAT', 'LINE', 'MOBILE_APP', 'WEB_ENGAGE']);

export const IDENTIFIER_TYPES = [
  'mobile',
  'email',
  'externalId',
  'wechat',
  'martjackId',
  'fbId',
  'tmall_uname',
  'cuid',
  'ali_uname',
  'jd_uname',
  'vip_uname',
  'mobilePush',
  'line',
  'unionId',
  'card',
] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

/** `cardnumber` is the older name of the card identifier; both are accepted. */
export function canonicalIdentifierType(name: string): IdentifierType | undefined {
  if (name === 'cardnumber') return 'card';
  return (IDENTIFIER_TYPES as readonly string[]).includes(name) ? (name as IdentifierType) : undefined;
}

export const COMM_CHANNEL_TYPES = ['mobile', 'email', 'wechat', 'ios', 'android', 'line', 'mobilePush'] as const;
export type CommChannelType = (typeof COMM_CHANNEL_TYPES)[number];

export const END_POINTS = ['REFERRAL_ENDPOINT', 'DVS_ENDPOINT', 'TIMELINE_ENDPOINT', 'POINTENGINE_ENDPOINT'] as const;

export const LOYALTY_TYPES = ['loyalty', 'non_loyalty'] as const;
export type LoyaltyType = (typeof LOYALTY_TYPES)[number];

/** The data types of extended fields (SPEC section 7). */
export const EXTENDED_FIELD_TYPES = ['STRING', 'INTEGER', 'DOUBLE', 'DATE', 'DATETIME', 'STANDARD_ENUM', 'CUSTOM_ENUM', 'COUNTRY'] as const;
export type ExtendedFieldType = (typeof EXTENDED_FIELD_TYPES)[number];
