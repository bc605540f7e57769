// Reads a card identifier against the org's card series and status labels (SPEC section 3, Cards).

import { cardNumberMisfit } from '../cards';
import type { Card } from '../customer';
import { Code, type Problems } from '../errors';
import { readExtendedFields } from '../extendedFields';
import { canonicalText } from '../identifiers';
import type { OrgConfig } from '../org';
import type { IdentifierInput } from '../schemas/addCustomer.schema';

export function readCard(input: IdentifierInput, path: string, org: OrgConfig, createDate: string, problems: Problems): Card | undefined {
  const series = org.cardSeries.find((s) =>
    input.seriesId !== undefined ? s.id === input.seriesId : input.seriesCode !== undefined && s.code === input.seriesCode.trim(),
  );
  let ok = true;
  if (!series) {
    problems.add(
      Code.cardSeriesUnknown,
      input.seriesId === undefined && input.seriesCode === undefined
        ? 'card identifier needs seriesId or seriesCode'
        : 'card series does not exist',
      `${path}/${input.seriesId !== undefined ? 'seriesId' : 'seriesCode'}`,
    );
    ok = false;
  } else if (input.seriesId !== undefined && input.seriesCode !== undefined && series.code !== input.seriesCode.trim()) {
    problems.add(Code.cardSeriesUnknown, `seriesCode does not match series ${series.id}`, `${path}/seriesCode`);
    ok = false;
  }
  const statusLabel = input.statusLabel?.trim();
  if (!statusLabel || !org.cardStatusLabels.includes(statusLabel)) {
    problems.add(
      Code.invalidCardStatus,
      statusLabel ? `invalid card status label ${statusLabel}` : 'statusLabel is required',
      `${path}/statusLabel`,
    );
    ok = false;
  }
  // An omitted value asks the series for a number; a value sent must be one.
  const cardNumber = input.value === undefined ? '' : canonicalText(input.value).trim();
  if (input.value !== undefined && cardNumber === '') {
    problems.add(Code.badRequest, 'card number is empty; omit value to have the series generate one', `${path}/value`);
    ok = false;
  } else if (series) {
    if (cardNumber === '' && !series.generates) {
      problems.add(Code.cardNumberMisfit, `series ${series.code} does not generate numbers; a card number is required`, `${path}/value`);
      ok = false;
    } else if (cardNumber !== '') {
      const misfit = cardNumberMisfit(series, cardNumber);
      if (misfit) {
        problems.add(Code.cardNumberMisfit, `card number does not fit series ${series.code}: it ${misfit}`, `${path}/value`);
        ok = false;
      }
    }
  }
  const fields = input.fields ? { ...input.fields } : undefined;
  const extendedFields = input.extendedFields
    ? readExtendedFields(input.extendedFields, org.extendedFields, `${path}/extendedFields`, problems)
    : undefined;
  if (!ok || !series || !statusLabel) return undefined;
  const card: Card = {
    cardNumber,
    seriesId: series.id,
    seriesCode: series.code,
    statusLabel,
    issuedDate: createDate,
    generated: cardNumber === '',
  };
  if (fields) card.fields = fields;
  if (extendedFields && Object.keys(extendedFields).length > 0) card.extendedFields = extendedFields;
  return card;
}
