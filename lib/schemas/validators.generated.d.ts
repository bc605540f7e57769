import type { ValidateFunction } from 'ajv';
import type { AddCustomerBody } from './addCustomer.schema';
import type { BulkAddCustomersBody } from './bulkAddCustomers.schema';
import type { ChangeIdentifierBody } from './changeIdentifier.schema';
import type { UpdateCustomerBody } from './updateCustomer.schema';

export declare const validateAddCustomer: ValidateFunction<AddCustomerBody>;
export declare const validateBulkAddCustomers: ValidateFunction<BulkAddCustomersBody>;
export declare const validateOrg: ValidateFunction<unknown>;
export declare const validateUpdateCustomer: ValidateFunction<UpdateCustomerBody>;
export declare const validateChangeIdentifier: ValidateFunction<ChangeIdentifierBody>;
