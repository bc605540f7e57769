import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateValidatorSource } from '../lib/schemas/generate';

const target = join(__dirname, '..', 'lib', 'schemas', 'validators.generated.js');
writeFileSync(target, generateValidatorSource());
console.log(`wrote ${target}`);
