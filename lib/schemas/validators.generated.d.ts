import type { ValidateFunction } from 'ajv';
import type { AddCustomerBody } from './addCustomer.schema';
import type { BulkAddCustomersBody } from './bulkAddCustomers.schema';

export declare const validateAddCustomer: ValidateFunction<AddCustomerBody>;
export declare const validateBulkAddCustomers: ValidateFunction<BulkAddCustomersBody>;
export declare const validateOrg: ValidateFunction<unknown>;
