// @podgate/errors: the one error vocabulary. No dependencies and no I/O, so policy,
// identity, runtime and every service can import it.
export {
  codesIn,
  ERROR_CODES,
  type ErrorArea,
  type ErrorCode,
  type ErrorCodeIn,
  type ErrorCodeInfo,
  isErrorCode,
} from './codes.js';
export { type ErrorBody, errorBody, httpStatus } from './http.js';
export { AREA_TITLES, errorTableRows, renderErrorTable } from './markdown.js';
export { errorMessage, hasErrorCode, PodgateError } from './podgate-error.js';
