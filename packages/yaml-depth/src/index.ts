export { yamlTooDeepAt } from './depth.js';
