// Reads a comm channel: its value normalised where it is a mobile or email, its flags as booleans.

import type { CommChannel } from '../customer';
import { Code, type Problems } from '../errors';
import { normaliseEmail, normaliseMobile } from '../identifiers';
import { isStorableNumber } from '../numbers';
import type { OrgConfig } from '../org';
import { escapePointer } from '../pointer';
import type { CommChannelInput } from '../schemas/addCustomer.schema';

export function readCommChannel(input: CommChannelInput, path: string, org: OrgConfig, problems: Problems): CommChannel {
  let value = input.value.trim();
  if (input.type === 'email' || input.type === 'mobile') {
    const normalised = input.type === 'email' ? normaliseEmail(value) : normaliseMobile(value, org.baseCountry);
    if (normalised.ok) value = normalised.value;
    else
      problems.add(
        input.type === 'email' ? Code.invalidCommChannelEmail : Code.invalidCommChannelMobile,
        `invalid ${input.type} in comm channel: ${normalised.reason}`,
        `${path}/value`,
      );
  } else if (value === '') {
    problems.add(Code.invalidCommChannel, 'comm channel without value', `${path}/value`);
  }
  if (input.meta?.lastViewedDate !== undefined && input.type !== 'mobilePush') {
    problems.add(Code.invalidCommChannel, 'meta.lastViewedDate is only for mobilePush channels', `${path}/meta/lastViewedDate`);
  }
  const channel: CommChannel = {
    type: input.type,
    value,
    primary: asBoolean(input.primary),
    verified: asBoolean(input.verified),
    subscribed: asBoolean(input.subscribed),
  };
  // Only the keys meta has; others were reported as ignored (8200) and are not stored.
  if (input.meta) {
    channel.meta = {};
    if (input.meta.lastViewedDate !== undefined) channel.meta.lastViewedDate = input.meta.lastViewedDate;
    if (input.meta.residence !== undefined) channel.meta.residence = asBoolean(input.meta.residence);
  }
  if (input.attributes) {
    for (const [name, value] of Object.entries(input.attributes)) {
      if (typeof value === 'number' && !isStorableNumber(value)) {
        problems.add(
          Code.invalidCommChannel,
          `attribute ${name} is a number too small to store`,
          `${path}/attributes/${escapePointer(name)}`,
        );
      }
    }
    channel.attributes = { ...input.attributes };
  }
  return channel;
}

/** Comm channel flags may arrive as `"true"` / `"false"`; they are stored as booleans. */
function asBoolean(flag: boolean | string | undefined): boolean {
  return flag === true || flag === 'true';
}
