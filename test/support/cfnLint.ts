import { dirname } from 'node:path';
import type * as CloudFormationValidate from 'aws-cdk-lib/node_modules/@aws/cloudformation-validate';

// A CloudFormation lint of a compiled template with AWS's own offline validator,
// @aws/cloudformation-validate (a WebAssembly build of mostly cfn-lint's rules and the resource
// provider schemas). aws-cdk-lib bundles it (its `bundleDependencies`), so it always sits in
// aws-cdk-lib's own node_modules and is required from there, the way aws-cdk-lib's
// CloudFormationValidatePlugin calls it: a CompositeEngine, an in-memory TemplateContent,
// STANDARD detail, findings from WARN up, the stage's region as AWS::Region (region-dependent
// rules, such as which instance types a region has, read it).
//
// Building the engine compiles its rules once (about a second); it is kept for the test file, and
// each template then takes well under a second.

/** `error` is the validator's FATAL and ERROR (the template would not deploy), `warning` its WARN. */
export type Severity = 'error' | 'warning';

export interface Finding {
  /** cfn-lint's rule id, such as E3005 or W3011 (F for fatal errors). */
  ruleId: string;
  severity: Severity;
  message: string;
  /** Where in the template, such as `Resources/AddCustomerLambdaFunction/Properties.Timeout`; `''` for the template as a whole. */
  path: string;
  /** The type of the resource the finding is on, if it is on a resource. */
  resourceType?: string;
}

type Diagnostic = CloudFormationValidate.Diagnostic;

/** The copy of the validator aws-cdk-lib ships, wherever npm put aws-cdk-lib. */
function loadValidator(): typeof CloudFormationValidate {
  const cdk = dirname(require.resolve('aws-cdk-lib/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('@aws/cloudformation-validate', { paths: [cdk] }));
}

let validator: { api: typeof CloudFormationValidate; engine: CloudFormationValidate.Engine } | undefined;

/** Every error and warning the validator reports on `template` deployed to `region`. */
export function lintTemplate(template: object, region: string): Finding[] {
  if (!validator) {
    const api = loadValidator();
    validator = { api, engine: new api.CompositeEngine() };
  }
  const { api, engine } = validator;
  const report = engine.validateTemplate(new api.TemplateContent(JSON.stringify(template), 'template.json'), {
    detailLevel: 'STANDARD',
    severityLevel: 'WARN',
    pseudoParameterOverrides: { region },
  });
  // ERROR is a template it could not parse, which comes with its own F1101 finding; an analysis
  // cut short may have left findings out, so it is no lint at all.
  if (report.status === 'ANALYSIS_INCOMPLETE') {
    const why = (report.metadata.budgetExhaustions ?? []).map((budget) => budget.description ?? budget.kind).join('; ');
    throw new Error(`@aws/cloudformation-validate did not finish analysing the template: ${why}`);
  }
  return report.diagnostics.map(toFinding);
}

function toFinding(diagnostic: Diagnostic): Finding {
  return {
    ruleId: diagnostic.ruleId,
    severity: diagnostic.severity === 'FATAL' || diagnostic.severity === 'ERROR' ? 'error' : 'warning',
    message: diagnostic.message,
    path: pathOf(diagnostic),
    ...(diagnostic.entity?.resourceType ? { resourceType: diagnostic.entity.resourceType } : {}),
  };
}

/** The template section each kind of named entity is declared in. */
const SECTIONS: Partial<Record<CloudFormationValidate.EntityType, string>> = {
  Resource: 'Resources',
  Parameter: 'Parameters',
  Output: 'Outputs',
  Mapping: 'Mappings',
  Condition: 'Conditions',
  Rule: 'Rules',
};

/**
 * The entity's section and logical id, then the property path, which the validator gives relative
 * to the entity (`Properties.Timeout`, `DependsOn`) or, for some rules, from the top of the
 * template already (`Outputs/ServiceEndpoint/Value`).
 */
function pathOf({ entity, propertyPath }: Diagnostic): string {
  const section = entity && SECTIONS[entity.entityType];
  if (!entity || !section) return propertyPath ?? '';
  const where = `${section}/${entity.logicalId}`;
  if (!propertyPath) return where;
  return propertyPath.startsWith(`${section}/`) ? propertyPath : `${where}/${propertyPath}`;
}
