import type { ValidateFunction } from 'ajv';
import type { AddCustomerBody } from './addCustomer.schema';

export declare const validateAddCustomer: ValidateFunction<AddCustomerBody>;
