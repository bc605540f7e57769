// Reads loyalty program enrollments (SPEC section 3, Enrollment); a loyalty customer sent
// without any joins the org's default program at tier 1.

import type { Enrollment } from '../customer';
import { parseDateTimeWithOffset } from '../dates';
import { Code, type Problems } from '../errors';
import type { OrgConfig } from '../org';
import type { EnrollmentInput } from '../schemas/addCustomer.schema';
import type { LoyaltyType } from '../vocabulary';

export function readEnrollments(
  inputs: readonly EnrollmentInput[] | undefined,
  loyaltyType: LoyaltyType,
  createDate: string,
  org: OrgConfig,
  problems: Problems,
): Enrollment[] {
  if (loyaltyType === 'non_loyalty') {
    if (inputs && inputs.length > 0) {
      problems.add(Code.enrollmentOfNonLoyalty, 'a non_loyalty customer cannot be enrolled', '/loyaltyProgramEnrollments');
    }
    return [];
  }
  if (!inputs || inputs.length === 0) {
    const program = org.programs.find((p) => p.isDefault);
    return program ? [{ programId: program.id, tierNumber: 1, loyaltyPoints: 0 }] : [];
  }
  const created = Date.parse(createDate);
  const enrollments: Enrollment[] = [];
  const programsSeen = new Set<number>();
  inputs.forEach((input, index) => {
    const path = `/loyaltyProgramEnrollments/${index}`;
    const program = org.programs.find((p) => p.id === input.programId);
    if (!program) {
      problems.add(Code.unknownProgram, `program ${input.programId} does not exist`, `${path}/programId`);
      return;
    }
    if (programsSeen.has(program.id)) {
      problems.add(Code.badRequest, `program ${program.id} is listed twice`, `${path}/programId`);
      return;
    }
    programsSeen.add(program.id);
    const tierNumber = input.tierNumber ?? 1;
    if (!program.tiers.some((t) => t.number === tierNumber)) {
      problems.add(Code.unknownTier, `tier ${tierNumber} does not exist in program ${program.id}`, `${path}/tierNumber`);
    }
    const enrollment: Enrollment = { programId: program.id, tierNumber, loyaltyPoints: input.loyaltyPoints ?? 0 };
    for (const key of ['tierExpiryDate', 'pointsExpiryDate'] as const) {
      const raw = input[key];
      if (raw === undefined) continue;
      const millis = parseDateTimeWithOffset(raw.trim());
      if (millis === undefined) problems.add(Code.badRequest, `${key} must be an ISO 8601 date-time with offset`, `${path}/${key}`);
      else if (!(millis > created)) problems.add(Code.expiryNotAfterCreateDate, `${key} must lie after createDate`, `${path}/${key}`);
      else enrollment[key] = new Date(millis).toISOString();
    }
    enrollments.push(enrollment);
  });
  return enrollments;
}
