import type { ValidateFunction } from 'ajv';
import type { AddCustomerBody } from './addCustomer.schema';
import type { BulkAddCustomersBody } from './bulkAddCustomers.schema';
import type { ChangeIdentifierBody } from './changeIdentifier.schema';
import type { MergeCustomersBody, UnmergeCustomerBody } from './mergeCustomers.schema';
import type { UpdateCustomerBody } from './updateCustomer.schema';

export declare const validateAddCustomer: ValidateFunction<AddCustomerBody>;
export declare const validateBulkAddCustomers: ValidateFunction<BulkAddCustomersBody>;
export declare const validateOrg: ValidateFunction<unknown>;
export declare const validateUpdateCustomer: ValidateFunction<UpdateCustomerBody>;
export declare const validateChangeIdentifier: ValidateFunction<ChangeIdentifierBody>;
export declare const validateMergeCustomers: ValidateFunction<MergeCustomersBody>;
export declare const validateUnmergeCustomer: ValidateFunction<UnmergeCustomerBody>;
