import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateValidatorSource } from '../lib/schemas/generate';
import { orgFileJsonSchema } from '../lib/schemas/orgFile.schema';

const target = join(__dirname, '..', 'lib', 'schemas', 'validators.generated.js');
writeFileSync(target, generateValidatorSource());
console.log(`wrote ${target}`);

const orgSchemaFile = join(__dirname, '..', 'config', 'orgs', 'org.schema.json');
writeFileSync(orgSchemaFile, `${JSON.stringify(orgFileJsonSchema(), null, 2)}\n`);
console.log(`wrote ${orgSchemaFile}`);
